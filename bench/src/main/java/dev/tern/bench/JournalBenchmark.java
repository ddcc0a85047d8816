package dev.tern.bench;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.JournalStats;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable accept cost: one invocation makes {@code batch} messages durable. {@code chronicleGroupCommit} commits them
 * through {@link ChronicleJournal} from {@code batch} concurrent virtual threads (they share fsyncs: group commit);
 * {@code jdkWriteAndForce} is the JDK baseline doing the least possible work for the same durability: one thread,
 * {@code FileChannel.write} of each envelope and body, one {@code force} per batch, over pages already cached once
 * its file has wrapped; {@code jdkAppendAndForce} does the same into new pages and blocks, as the journal always does
 * (it truncates its file at the limit, so its page cache is memory the kernel has just freed, while the journal's file
 * keeps growing). Scores are microseconds per batch: the commit latency a session sees; messages per second is
 * {@code batch * 1e6 / score}.
 *
 * <p>Run: {@code java -jar bench/target/benchmarks.jar JournalBenchmark}. Uses {@code java.io.tmpdir} for files.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true", "-Xmx1g"})
public class JournalBenchmark {
    @Param({"1", "16", "256"})
    public int batch;

    @Param({"1024", "102400"})
    public int bodyBytes;

    private Path dir;
    private BufferPool pool;
    private ChronicleJournal journal;
    private ExecutorService threads;
    private Future<?>[] pendingCommits;
    private byte[] content;
    /** One prebuilt body per concurrent committer, reused: the journal only reads it. */
    private MessageBody[] bodies;
    private FileChannel baseline;
    private FileChannel appended;
    private ByteBuffer baselineBody;
    private Envelope baselineEnvelope;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tern-journal-bench");
        pool = new BufferPool(16 << 10, Math.max(64, batch * (bodyBytes / (16 << 10) + 2)), 1024);
        journal = ChronicleJournal.open(dir.resolve("journal"),
                JournalSettings.defaults().withMaxBatch(Math.max(1, batch)));
        threads = Executors.newVirtualThreadPerTaskExecutor();
        pendingCommits = new Future<?>[batch];
        content = new byte[bodyBytes];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) ((i % 78 == 77) ? '\n' : (i % 78 == 76) ? '\r' : 'a' + i % 26);
        }
        bodies = new MessageBody[Math.max(1, batch)];
        for (int i = 0; i < bodies.length; i++) {
            bodies[i] = new MessageBody(pool);
            if (!bodies[i].append(content, 0, content.length)) {
                throw new IllegalStateException("benchmark pool exhausted");
            }
            bodies[i].seal();
        }
        baseline = FileChannel.open(dir.resolve("baseline.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        appended = FileChannel.open(dir.resolve("appended.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        baselineBody = ByteBuffer.allocateDirect(bodyBytes);
        baselineBody.put(content).flip();
        baselineEnvelope = JournalFixtures.envelope(QueueId.next());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        JournalStats s = journal.stats();
        System.out.printf("%n[journal] batch=%d body=%d: %d messages, %d syncs (%.1f messages per sync)%n", batch,
                bodyBytes, s.messagesCommitted(), s.syncs(), s.messagesCommitted() / (double) Math.max(1, s.syncs()));
        threads.close();
        journal.close();
        for (MessageBody b : bodies) {
            b.release();
        }
        baseline.close();
        appended.close();
        JournalFixtures.deleteTree(dir);
    }

    @Benchmark
    public void chronicleGroupCommit() throws Exception {
        if (batch == 1) {
            JournalFixtures.commitOne(journal, bodies[0]);
            return;
        }
        JournalFixtures.commitConcurrently(journal, threads, bodies, batch, pendingCommits);
    }

    @Benchmark
    public void jdkWriteAndForce() throws IOException {
        writeBatch(baseline);
        JournalFixtures.rewindAtLimit(baseline);
    }

    @Benchmark
    public void jdkAppendAndForce() throws IOException {
        writeBatch(appended);
        JournalFixtures.truncateAtLimit(appended);
    }

    private void writeBatch(FileChannel ch) throws IOException {
        for (int i = 0; i < batch; i++) {
            ch.write(ByteBuffer.wrap(baselineEnvelope.array(), 0, baselineEnvelope.length()));
            ch.write(baselineBody.duplicate());
        }
        ch.force(false);
    }
}

package dev.tern.bench;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.journal.ChronicleJournal;
import dev.tern.message.MessageBody;
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
 * Durable accept of 10 MiB messages (the large-DATA target): one invocation makes {@code batch} of them
 * durable. {@code chronicleGroupCommit} goes through {@link ChronicleJournal} from {@code batch} virtual threads;
 * {@code jdkWriteAndForce} and {@code jdkAppendAndForce} are floors: one thread writing the same bytes with
 * {@code FileChannel.write} from the same 64 KiB pooled chunks, one {@code force} per batch, over cached pages and
 * into fresh ones respectively. MB/s of stable storage is
 * {@code batch * 10.49 / (score in seconds)}; the bytes are chunked as the session's DATA decoder leaves them.
 *
 * <p>Run: {@code ./tern bench LargeBodyJournal}. Uses {@code java.io.tmpdir} (a few GiB for the journal side, deleted
 * at the end). {@code jdkWriteAndForce} wraps its file at 1 GiB, so after the first lap it rewrites pages already in
 * the page cache; the journal and {@code jdkAppendAndForce} fill new ones. The journal's file keeps growing into memory
 * not used lately, while the truncated baseline gets back memory just freed: on a VM whose balloon hands free memory
 * back to the host, the first is much dearer (docs/benchmarks.md, JMH section).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true", "-Xmx1g",
        "-XX:MaxDirectMemorySize=2g"})
public class LargeBodyJournalBenchmark {
    private static final int BODY_BYTES = 10 << 20;
    private static final int CHUNK = 64 << 10;

    @Param({"1", "10"})
    public int batch;

    private Path dir;
    private BufferPool pool;
    private ChronicleJournal journal;
    private ExecutorService threads;
    private Future<?>[] pending;
    private MessageBody[] bodies;
    private FileChannel baseline;
    private FileChannel appended;
    private ByteBuffer[] baselineChunks;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tern-large-bench");
        pool = new BufferPool(CHUNK, batch * (BODY_BYTES / CHUNK + 1), 0);
        journal = ChronicleJournal.open(dir.resolve("journal"), JournalSettings.defaults().withMaxBatch(batch));
        threads = Executors.newVirtualThreadPerTaskExecutor();
        pending = new Future<?>[batch];
        byte[] content = new byte[BODY_BYTES];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) ((i % 78 == 77) ? '\n' : (i % 78 == 76) ? '\r' : 'a' + i % 26);
        }
        bodies = new MessageBody[batch];
        for (int i = 0; i < batch; i++) {
            bodies[i] = new MessageBody(pool);
            if (!bodies[i].append(content, 0, content.length)) {
                throw new IllegalStateException("benchmark pool exhausted");
            }
            bodies[i].seal();
        }
        baseline = FileChannel.open(dir.resolve("baseline.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        appended = FileChannel.open(dir.resolve("appended.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        baselineChunks = bodies[0].chunks().toArray(new ByteBuffer[0]);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
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
        JournalFixtures.commitConcurrently(journal, threads, bodies, batch, pending);
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
            for (ByteBuffer c : baselineChunks) {
                c.rewind();
            }
            long left = BODY_BYTES;
            while (left > 0) {
                left -= ch.write(baselineChunks);
            }
        }
        ch.force(false);
    }
}

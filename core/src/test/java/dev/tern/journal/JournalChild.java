package dev.tern.journal;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * The child JVM of the crash tests (started by {@link ChildJvm}, killed by its parent).
 * <ul>
 *   <li>{@code load DIR THREADS}: commits messages from THREADS platform threads until killed, printing
 *       {@code ACK <id>} for each commit that returned;</li>
 *   <li>{@code rolling-load DIR THREADS WALL0 SPEED}: as {@code load}, on a journal rolling every 5 minutes of a clock
 *       running SPEED times real time from WALL0 ({@link #fastClock}), so cycles roll and old ones are compacted
 *       under load; after each commit a thread records the previous message of its own as delivered to both
 *       recipients nine times in ten (old cycles then hold little and are compacted), printing {@code MARKING <id>}
 *       before and {@code DONE <id>} once that returned;</li>
 *   <li>{@code tear DIR N [HOURS]}: commits N messages, closes the journal, then starts a message document and halts
 *       the JVM in the middle of it (a torn tail, with Chronicle's append lock held by a dead process); with HOURS,
 *       the torn document is written that many hours later, so it is the first of a new cycle file.</li>
 * </ul>
 * Bodies are a function of the queue id ({@link #content}) so the parent can verify them; some are large, so a kill
 * also lands in the middle of a body written through the file.
 */
public final class JournalChild {
    private JournalChild() {
    }

    /** One body in eight is large enough to reach the file by write-through (see JournalWriter). */
    static byte[] content(long id) {
        if ((id * 0x9E3779B97F4A7C15L) >>> 61 == 0) { // a multiplicative hash: ids end in zeros too often
            return TestMessages.content(id, (int) JournalWriter.WRITE_THROUGH_BYTES
                    + (int) Long.remainderUnsigned(id, 130_000));
        }
        return TestMessages.content(id, 200 + (int) Long.remainderUnsigned(id, 30_000));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
        switch (args[0]) {
            case "load" -> load(dir, Integer.parseInt(args[2]), out);
            case "rolling-load" -> rollingLoad(dir, Integer.parseInt(args[2]), Long.parseLong(args[3]),
                    Integer.parseInt(args[4]), out);
            case "tear" -> tear(dir, Integer.parseInt(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 0, out);
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void load(Path dir, int threads, PrintStream out) throws Exception {
        commitLoop(ChronicleJournal.open(dir, JournalSettings.defaults()), threads, false, out);
    }

    /** The rolling tests' journal: cycles of 5 minutes. */
    static final JournalSettings ROLLING = JournalSettings.defaults().withRollInterval(Duration.ofMinutes(5));

    /** A clock running {@code speed} times real time from {@code wall0}: the same in the parent and every child. */
    static InstantSource fastClock(long wall0, int speed) {
        return () -> Instant.ofEpochMilli(wall0 + (System.currentTimeMillis() - wall0) * speed);
    }

    private static void rollingLoad(Path dir, int threads, long wall0, int speed, PrintStream out) throws Exception {
        commitLoop(ChronicleJournal.open(dir, ROLLING, fastClock(wall0, speed)), threads, true, out);
    }

    /**
     * Commits from {@code threads} platform threads until killed; with {@code mark}, each thread records its previous
     * message delivered nine times in ten.
     */
    private static void commitLoop(ChronicleJournal j, int threads, boolean mark, PrintStream out)
            throws InterruptedException {
        BufferPool pool = new BufferPool(8192, 512, 512);
        print(out, "READY");
        for (int t = 0; t < threads; t++) {
            long seed = t;
            Thread.ofPlatform().start(() -> {
                Random random = new Random(seed);
                long previous = 0;
                while (true) {
                    long id = QueueId.next();
                    Envelope e = TestMessages.envelope(id, "s@example.org", "a@example.com", "b@example.com");
                    MessageBody b = TestMessages.body(pool, content(id));
                    try {
                        j.commit(e, b);
                        print(out, "ACK " + id);
                        if (mark && previous != 0 && random.nextInt(10) != 0) {
                            print(out, "MARKING " + previous); // from here on either outcome may be durable
                            long at = System.currentTimeMillis();
                            j.record(List.of(new Outcome(previous, 0, OutcomeKind.DELIVERED, at, 0, "250 ok"),
                                    new Outcome(previous, 1, OutcomeKind.DELIVERED, at, 0, "250 ok")));
                            print(out, "DONE " + previous);
                        }
                        previous = id;
                    } catch (JournalException ex) {
                        print(out, "FAIL " + id + " " + ex.getMessage());
                    } finally {
                        b.release();
                    }
                }
            });
        }
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void print(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    private static void tear(Path dir, int n, int hoursLater, PrintStream out) throws Exception {
        BufferPool pool = new BufferPool(8192, 64, 64);
        JournalSettings settings = JournalSettings.defaults();
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            for (int i = 0; i < n; i++) {
                long id = QueueId.next();
                MessageBody b = TestMessages.body(pool, content(id));
                try {
                    j.commit(TestMessages.envelope(id, "s@example.org", "a@example.com"), b);
                } finally {
                    b.release();
                }
                out.println("ACK " + id);
            }
        }
        Instant tornAt = Instant.now().plus(Duration.ofHours(hoursLater));
        SingleChronicleQueue q = ChronicleJournal.builder(dir, settings.rollInterval(), settings.maxRecordBytes(),
                InstantSource.fixed(tornAt)).build();
        ExcerptAppender app = q.createAppender();
        DocumentContext dc = app.writingDocument();
        Bytes<?> b = dc.wire().bytes();
        long id = QueueId.next();
        Envelope e = TestMessages.envelope(id, "s@example.org", "a@example.com");
        RecordCodec.writeMessageHead(b, id, e.array(), e.length(), 100_000);
        b.write(new byte[5000]);
        out.println("TORN " + id);
        out.flush();
        Runtime.getRuntime().halt(0);
    }
}

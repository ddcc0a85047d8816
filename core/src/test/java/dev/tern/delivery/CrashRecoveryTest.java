package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.message.Envelope;
import dev.tern.message.QueueId;
import java.nio.ByteBuffer;
import dev.tern.journal.Journal;
import dev.tern.testing.TestCommits;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 during delivery: a child JVM delivers from a durable journal and is killed mid-stream; a fresh engine on
 * the same journal then delivers everything still pending. Every message arrives at least once, and only messages
 * in flight at the kill (at most one per connection) may arrive twice.
 */
class CrashRecoveryTest {
    private static final int MESSAGES = 30;
    private static final Pattern SUBJECT = Pattern.compile("Subject: crash (\\d+)\r\n");

    @TempDir
    Path dir;

    @Test
    void restartDeliversEverythingPendingAfterKill9WithTheChronicleJournal() throws Exception {
        crashAndRecover("chronicle");
    }

    @Test
    void restartDeliversEverythingPendingAfterKill9WithTheFileJournalDouble() throws Exception {
        crashAndRecover("file");
    }

    private void crashAndRecover(String kind) throws Exception {
        try (TestSink sink = TestSink.start()) {
            sink.replyDelayMillis = 15;
            Path journalDir = dir.resolve("journal");
            Journal seed = CrashChild.open(kind, journalDir);
            for (int i = 0; i < MESSAGES; i++) {
                seedMessage(seed, i);
            }
            seed.close();

            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java));
            // The JVM flags Chronicle needs (surefire's argLine) go to the child too.
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> a.startsWith("--add-") || a.startsWith("--enable-") || a.startsWith("--sun-")
                            || a.startsWith("-Dchronicle")).toList());
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                    journalDir.toString(), String.valueOf(sink.port()), kind));
            Process child = new ProcessBuilder(cmd)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
            Map<Integer, Integer> arrivals = new HashMap<>();
            List<TestSink.Received> before = sink.take(5, Duration.ofSeconds(20));
            assertThat(before).as("the child delivered some mail").hasSize(5);
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            count(before, arrivals);
            sink.replyDelayMillis = 0;

            Journal journal = CrashChild.open(kind, journalDir);
            assertThat(journal.pending()).isNotEmpty();
            try (journal; DeliveryEngine engine = DeliveryEngine.start(CrashChild.config(sink.port()), journal)) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!journal.pending().isEmpty() && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
                assertThat(journal.pending()).isEmpty();
            }
            count(sink.take(MESSAGES * 2, Duration.ofMillis(500)), arrivals);

            assertThat(arrivals.keySet()).hasSize(MESSAGES);
            long duplicates = arrivals.values().stream().filter(n -> n > 1).count();
            assertThat(duplicates).isLessThanOrEqualTo(2); // two connections: at most two in flight at the kill
        }
    }

    /** Stores a one-recipient message the way a session would. */
    private static void seedMessage(Journal journal, int n) throws Exception {
        BufferPool pool = new BufferPool(256, 4, 64);
        Envelope env = new Envelope();
        env.begin(QueueId.next(), System.currentTimeMillis(), Envelope.utf8("127.0.0.1"), Envelope.utf8("client.test"));
        ByteBuffer empty = ByteBuffer.allocate(0);
        env.sender(empty, 0, 0);
        env.mailParameters(-1, Envelope.BODY_UNSPECIFIED, false, Envelope.RET_UNSPECIFIED, empty, 0, 0);
        ByteBuffer rcpt = ByteBuffer.wrap(Envelope.utf8("u" + n + "@rcpt.test"));
        env.addRecipient(rcpt, 0, rcpt.limit(), 0, empty, 0, 0);
        TestCommits.commit(journal, env, "Subject: crash " + n + "\r\n\r\nbody " + n + "\r\n", pool);
    }

    private static void count(List<TestSink.Received> received, Map<Integer, Integer> arrivals) {
        for (TestSink.Received r : received) {
            Matcher m = SUBJECT.matcher(r.text());
            assertThat(m.find()).isTrue();
            arrivals.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
        }
    }
}

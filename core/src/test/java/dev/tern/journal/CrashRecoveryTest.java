package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.JournalSettings;
import java.io.BufferedReader;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a real child JVM under load: every acknowledged message must be pending exactly once afterwards with
 * its body intact, and nothing half-written may appear. Several rounds on the same directory, each restart also
 * recovering the previous crash's tail.
 */
class CrashRecoveryTest {
    private static final int ROUNDS = 4;
    private static final int MIN_ACKS_BEFORE_KILL = 200;
    private static final long ROUND_DEADLINE_MILLIS = 30_000;
    /** The rolling test's clock speed: 5-minute cycles roll every tenth of a second. */
    private static final int SPEED = 3_000;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedMessageSurvivesKillNineIntactAndOnce() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Set<Long> acked = new HashSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            int killAfter = MIN_ACKS_BEFORE_KILL + random.nextInt(400);
            System.out.println("crash round " + round + " seed " + seed + " kill after " + killAfter + " acks");
            acked.addAll(loadAndKill(killAfter));
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
                List<QueuedMessage> pending = j.pending();
                Set<Long> pendingIds = new HashSet<>();
                for (QueuedMessage q : pending) {
                    assertThat(pendingIds.add(q.queueId())).as("pending once: %s", q.queueId()).isTrue();
                    assertThat(q.envelope().recipients()).hasSize(2);
                    byte[] body = TestMessages.readBody(j, q.queueId());
                    assertThat(TestMessages.sha256(body)).as("body of %s", q.queueId())
                            .isEqualTo(TestMessages.sha256(JournalChild.content(q.queueId())));
                }
                assertThat(pendingIds).containsAll(acked);
            }
        }
    }

    /**
     * The same across cycle rolls and compaction: the child's clock runs 3,000 times real time on 5-minute cycles
     * (a roll every tenth of a second), and it marks nine in ten of its messages delivered as it goes, so cycles
     * fill, roll, become final and are deleted or carried forward while it is killed. Afterwards every acknowledged
     * message not marked delivered is pending once and intact, and none marked delivered is pending.
     */
    @Test
    void everyAcknowledgedMessageSurvivesKillNineAcrossCycleRolls() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        long wall0 = System.currentTimeMillis();
        Set<Long> acked = new HashSet<>();
        Set<Long> marking = new HashSet<>();
        Set<Long> done = new HashSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            int killAfter = MIN_ACKS_BEFORE_KILL + random.nextInt(1_000);
            System.out.println("rolling crash round " + round + " seed " + seed + " kill after " + killAfter);
            Process p = ChildJvm.start("rolling-load", dir.toString(), "4", Long.toString(wall0),
                    Integer.toString(SPEED));
            readAndKill(p, killAfter, acked, marking, done);
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalChild.ROLLING,
                    JournalChild.fastClock(wall0, SPEED))) {
                Set<Long> pendingIds = new HashSet<>();
                for (QueuedMessage q : j.pending()) {
                    assertThat(pendingIds.add(q.queueId())).as("pending once: %s", q.queueId()).isTrue();
                    assertThat(TestMessages.sha256(TestMessages.readBody(j, q.queueId()))).as("body of %s",
                            q.queueId()).isEqualTo(TestMessages.sha256(JournalChild.content(q.queueId())));
                }
                Set<Long> open = new HashSet<>(acked);
                open.removeAll(marking); // marked as the child was killed: pending or not, both are right
                open.removeAll(done);
                assertThat(pendingIds).containsAll(open).doesNotContainAnyElementsOf(done);
            }
        }
    }

    /** Runs the child until it has acknowledged enough messages, kills it, returns what it acknowledged. */
    private Set<Long> loadAndKill(int killAfter) throws Exception {
        Process p = ChildJvm.start("load", dir.toString(), "4");
        Set<Long> acked = new HashSet<>();
        readAndKill(p, killAfter, acked, new HashSet<>(), new HashSet<>());
        return acked;
    }

    /** Reads the child's ACK, MARKING and DONE lines until {@code killAfter} acks, then kills it. */
    private static void readAndKill(Process p, int killAfter, Set<Long> acked, Set<Long> marking, Set<Long> done)
            throws Exception {
        int before = acked.size();
        long deadline = System.currentTimeMillis() + ROUND_DEADLINE_MILLIS;
        try (BufferedReader r = ChildJvm.stdout(p)) {
            String line;
            while (acked.size() - before < killAfter && System.currentTimeMillis() < deadline
                    && (line = r.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acked.add(Long.parseLong(line.substring(4)));
                } else if (line.startsWith("MARKING ")) {
                    marking.add(Long.parseLong(line.substring(8)));
                } else if (line.startsWith("DONE ")) {
                    done.add(Long.parseLong(line.substring(5)));
                }
                assertThat(line).doesNotStartWith("FAIL");
            }
            // SIGKILL while the writer is appending; acks still in the pipe are not counted. (Through the handle:
            // Process.destroyForcibly would close the pipe, which is read to its end below.)
            p.toHandle().destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            // But a message marked after the last line read may have been recorded delivered: read the rest (each
            // line went in one write to the pipe, so none is cut).
            while ((line = r.readLine()) != null) {
                if (line.startsWith("MARKING ")) {
                    marking.add(Long.parseLong(line.substring(8)));
                }
            }
        }
        assertThat(acked.size() - before).isGreaterThanOrEqualTo(killAfter);
    }
}

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

    /** Runs the child until it has acknowledged enough messages, kills it, returns what it acknowledged. */
    private Set<Long> loadAndKill(int killAfter) throws Exception {
        Process p = ChildJvm.start("load", dir.toString(), "4");
        Set<Long> acked = new HashSet<>();
        long deadline = System.currentTimeMillis() + ROUND_DEADLINE_MILLIS;
        try (BufferedReader r = ChildJvm.stdout(p)) {
            String line;
            while (acked.size() < killAfter && System.currentTimeMillis() < deadline
                    && (line = r.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acked.add(Long.parseLong(line.substring(4)));
                }
                assertThat(line).doesNotStartWith("FAIL");
            }
            // SIGKILL while the writer is appending; acks still in the pipe are not counted (a line may be cut).
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(acked).hasSizeGreaterThanOrEqualTo(killAfter);
        return acked;
    }
}

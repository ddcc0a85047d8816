package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CycleCompactionTest {
    @TempDir
    Path dir;

    /** Where a test keeps a cycle file the journal deletes (same file system: hard links). */
    @TempDir
    Path saved;

    private final BufferPool pool = new BufferPool(4096, 64, 64);
    private final FakeClock clock = new FakeClock(Instant.parse("2026-11-25T10:05:00Z"));

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private ChronicleJournal open(double ratio) throws JournalException {
        return ChronicleJournal.open(dir, JournalSettings.defaults().withCompactRatio(ratio), clock);
    }

    private long commit(Journal j, byte[] content) throws JournalException {
        return TestMessages.commit(j, pool, content, "s@example.org", "r@example.com");
    }

    private List<String> cycleFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cq4")).sorted().toList();
        }
    }

    private static Outcome delivered(long id) {
        return new Outcome(id, 0, OutcomeKind.DELIVERED, 1, 0, "250 ok");
    }

    @Test
    void cyclesRollWithTheClock() throws Exception {
        try (ChronicleJournal j = open(0)) {
            commit(j, TestMessages.content(1, 200));
            clock.advance(Duration.ofHours(1));
            commit(j, TestMessages.content(2, 200));
            assertThat(cycleFiles()).hasSize(2);
        }
    }

    @Test
    void oldCycleIsDeletedOnceEveryMessageInItIsFinal() throws Exception {
        try (ChronicleJournal j = open(0)) {
            long a = commit(j, TestMessages.content(1, 200));
            long b = commit(j, TestMessages.content(2, 200));
            clock.advance(Duration.ofHours(1));
            long c = commit(j, TestMessages.content(3, 200));
            List<String> before = cycleFiles();
            assertThat(before).hasSize(2);

            j.record(List.of(delivered(a)));
            j.compact();
            assertThat(cycleFiles()).isEqualTo(before);

            j.record(List.of(delivered(b)));
            j.compact();
            assertThat(cycleFiles()).containsExactly(before.get(1));
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(c);
        }
        try (ChronicleJournal j = open(0)) {
            assertThat(j.pending()).hasSize(1);
        }
    }

    @Test
    void currentCycleIsKeptEvenWhenEverythingInItIsFinal() throws Exception {
        try (ChronicleJournal j = open(1)) {
            long a = commit(j, TestMessages.content(1, 200));
            j.record(List.of(delivered(a)));
            j.compact();
            assertThat(cycleFiles()).hasSize(1);
        }
    }

    @Test
    void pendingMessageIsCarriedForwardWithItsStateBeforeItsCycleIsDeleted() throws Exception {
        byte[] content = TestMessages.content(5, 20_000);
        long kept;
        try (ChronicleJournal j = open(1)) {
            kept = commit(j, content);
            long done = commit(j, TestMessages.content(6, 20_000));
            j.record(List.of(delivered(done),
                    new Outcome(kept, 0, OutcomeKind.DEFERRED, 5, 77_000, "421 busy")));
            String oldCycle = cycleFiles().getFirst();
            clock.advance(Duration.ofHours(1));
            j.compact();
            assertThat(cycleFiles()).as("the previous cycle is not carried yet").containsExactly(oldCycle);
            clock.advance(Duration.ofHours(1));
            j.compact();

            assertThat(cycleFiles()).hasSize(1).doesNotContain(oldCycle);
            assertThat(TestMessages.readBody(j, kept)).isEqualTo(content);
            assertThat(j.find(kept)).get().satisfies(q -> {
                assertThat(q.recipientStates()).containsExactly(OutcomeKind.DEFERRED);
                assertThat(q.attempts()).isEqualTo(1);
                assertThat(q.nextAttemptMillis()).isEqualTo(77_000);
            });
        }
        try (ChronicleJournal j = open(1)) {
            assertThat(j.find(kept)).get().satisfies(q -> {
                assertThat(q.recipientStates()).containsExactly(OutcomeKind.DEFERRED);
                assertThat(q.attempts()).isEqualTo(1);
                assertThat(q.lastDetail()).isEqualTo("421 busy");
            });
            assertThat(j.pending()).hasSize(1);
            assertThat(TestMessages.readBody(j, kept)).isEqualTo(content);
        }
    }

    @Test
    void journalStaysAppendableAfterItsOldCyclesAreDeleted() throws Exception {
        try (ChronicleJournal j = open(1)) {
            long a = commit(j, TestMessages.content(1, 200));
            j.record(List.of(delivered(a)));
            clock.advance(Duration.ofHours(1));
            j.compact();
            assertThat(cycleFiles()).isEmpty();
            long b = commit(j, TestMessages.content(2, 200));
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(b);
        }
        try (ChronicleJournal j = open(1)) {
            assertThat(j.pending()).hasSize(1);
        }
    }

    @Test
    void carriedCopyWinsWhenTheOldCycleSurvivedACrash() throws Exception {
        byte[] content = TestMessages.content(9, 3000);
        long kept;
        try (ChronicleJournal j = open(1)) {
            kept = commit(j, content);
            j.record(List.of(new Outcome(kept, 0, OutcomeKind.DEFERRED, 5, 1234, "451 later")));
            String oldCycle = cycleFiles().getFirst();
            Files.createLink(saved.resolve(oldCycle), dir.resolve(oldCycle)); // keeps the inode past the delete
            clock.advance(Duration.ofHours(2));
            j.compact();
            // Simulate a crash between the durable copy and the deletion: the old cycle reappears.
            Files.createLink(dir.resolve(oldCycle), saved.resolve(oldCycle));
        }
        try (ChronicleJournal j = open(1)) {
            assertThat(j.pending()).singleElement().satisfies(q -> {
                assertThat(q.queueId()).isEqualTo(kept);
                assertThat(q.attempts()).isEqualTo(1);
            });
            assertThat(TestMessages.readBody(j, kept)).isEqualTo(content);
        }
    }

    @Test
    void largeBacklogIsCarriedForwardInStepsBetweenCommits() throws Exception {
        BufferPool big = new BufferPool(64 << 10, 32, 32);
        int n = 40;
        int size = 1 << 20; // 40 MiB pending: more than one carry step
        List<Long> ids = new java.util.ArrayList<>();
        try (ChronicleJournal j = open(1)) {
            for (int i = 0; i < n; i++) {
                long id = QueueId.next();
                MessageBody b = TestMessages.body(big, TestMessages.content(id, size));
                try {
                    j.commit(TestMessages.envelope(id, "s@example.org", "r@example.com"), b);
                } finally {
                    b.release();
                }
                ids.add(id);
            }
            String oldCycle = cycleFiles().getFirst();
            clock.advance(Duration.ofHours(2));
            ids.add(commit(j, TestMessages.content(1, 200))); // the batch after which housekeeping starts carrying
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (cycleFiles().contains(oldCycle) && System.nanoTime() < deadline) {
                ids.add(commit(j, TestMessages.content(ids.size(), 200))); // commits keep being served meanwhile
                Thread.sleep(20);
            }
            assertThat(cycleFiles()).doesNotContain(oldCycle);
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
            for (int i = 0; i < n; i += 13) {
                long id = ids.get(i);
                assertThat(TestMessages.readBody(j, id)).isEqualTo(TestMessages.content(id, size));
            }
        }
        assertThat(big.outstanding()).isZero();
    }
}

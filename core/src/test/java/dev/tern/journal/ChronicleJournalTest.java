package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChronicleJournalTest {
    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(4096, 64, 64);

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private long commit(Journal j, byte[] content, String... rcpts) throws JournalException {
        return TestMessages.commit(j, pool, content, "sender@example.org", rcpts);
    }

    @Test
    void committedMessageIsPendingWithItsEnvelope() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            long id = commit(j, TestMessages.content(1, 500), "a@example.com", "b@example.com");
            assertThat(j.pending()).singleElement().satisfies(q -> {
                assertThat(q.queueId()).isEqualTo(id);
                assertThat(q.envelope().sender()).isEqualTo("sender@example.org");
                assertThat(q.envelope().recipients()).extracting(r -> r.address())
                        .containsExactly("a@example.com", "b@example.com");
                assertThat(q.recipientStates()).containsExactly(null, null);
                assertThat(q.attempts()).isZero();
            });
        }
    }

    @Test
    void readBodyReturnsTheStoredBytes() throws Exception {
        byte[] content = TestMessages.content(2, 50_000);
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            long id = commit(j, content, "a@example.com");
            assertThat(TestMessages.readBody(j, id)).isEqualTo(content);
            assertThat(j.find(id)).get().extracting(QueuedMessage::bodyLength).isEqualTo((long) content.length);
        }
    }

    @Test
    void reopenedJournalRecoversPendingMessagesAndBodies() throws Exception {
        List<Long> ids = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            for (int i = 0; i < 20; i++) {
                byte[] c = TestMessages.content(i, 100 + i * 997);
                contents.add(c);
                ids.add(commit(j, c, "r" + i + "@example.com"));
            }
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
            for (int i = 0; i < ids.size(); i++) {
                assertThat(TestMessages.readBody(j, ids.get(i))).isEqualTo(contents.get(i));
            }
        }
    }

    @Test
    void messageWithAllRecipientsFinalIsNoLongerPending() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            long id = commit(j, TestMessages.content(3, 300), "a@example.com", "b@example.com");
            j.record(List.of(new Outcome(id, 0, OutcomeKind.DELIVERED, 1, 0, "250 ok")));
            assertThat(j.find(id)).get().satisfies(q -> {
                assertThat(q.recipientStates()).containsExactly(OutcomeKind.DELIVERED, null);
                assertThat(q.attempts()).isEqualTo(1);
                assertThat(q.lastDetail()).isEqualTo("250 ok");
            });
            j.record(List.of(new Outcome(id, 1, OutcomeKind.BOUNCED, 2, 0, "550 no such user")));
            assertThat(j.find(id)).isEmpty();
            assertThat(j.pending()).isEmpty();
        }
    }

    @Test
    void deferredOutcomeSurvivesReopen() throws Exception {
        long id;
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            id = commit(j, TestMessages.content(4, 300), "a@example.com", "b@example.com");
            j.record(List.of(new Outcome(id, 0, OutcomeKind.DELIVERED, 10, 0, "250 ok"),
                    new Outcome(id, 1, OutcomeKind.DEFERRED, 10, 99_000, "451 try later")));
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.find(id)).get().satisfies(q -> {
                assertThat(q.recipientStates()).containsExactly(OutcomeKind.DELIVERED, OutcomeKind.DEFERRED);
                assertThat(q.attempts()).isEqualTo(1);
                assertThat(q.nextAttemptMillis()).isEqualTo(99_000);
                assertThat(q.lastDetail()).isEqualTo("451 try later");
            });
        }
    }

    @Test
    void finalMessagesStayGoneAfterReopen() throws Exception {
        long kept;
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            long done = commit(j, TestMessages.content(5, 300), "a@example.com");
            kept = commit(j, TestMessages.content(6, 300), "a@example.com");
            j.record(List.of(new Outcome(done, 0, OutcomeKind.DELIVERED, 1, 0, "250 ok")));
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(kept);
        }
    }

    @Test
    void listenerHearsOfEachCommitBeforeTheCallerReturns() throws Exception {
        List<Long> heard = new CopyOnWriteArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            j.onCommitted(q -> heard.add(q.queueId()));
            long id = commit(j, TestMessages.content(7, 100), "a@example.com");
            assertThat(heard).containsExactly(id);
        }
    }

    @Test
    void envelopeWithoutRecipientsIsRefused() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            Envelope e = TestMessages.envelope(QueueId.next(), "s@example.org");
            MessageBody b = TestMessages.body(pool, TestMessages.content(8, 100));
            try {
                assertThatThrownBy(() -> j.commit(e, b)).isInstanceOf(JournalException.class);
            } finally {
                b.release();
            }
            assertThat(j.stats().failures()).isEqualTo(1);
            assertThat(j.pending()).isEmpty();
        }
    }

    @Test
    void secondOpenOfTheSameDirectoryIsRefused() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThatThrownBy(() -> ChronicleJournal.open(dir, JournalSettings.defaults()))
                    .isInstanceOf(JournalException.class).hasMessageContaining("in use");
        }
    }

    @Test
    void statsCountCommitsAndSyncs() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            commit(j, TestMessages.content(9, 100), "a@example.com");
            commit(j, TestMessages.content(10, 100), "a@example.com");
            JournalStats s = j.stats();
            assertThat(s.messagesCommitted()).isEqualTo(2);
            assertThat(s.syncs()).isBetween(1L, 2L);
            assertThat(s.pendingMessages()).isEqualTo(2);
        }
    }

    @Test
    void osDurabilityAcknowledgesWithoutSyncing() throws Exception {
        JournalSettings os = JournalSettings.defaults().withDurability(Durability.OS);
        try (ChronicleJournal j = ChronicleJournal.open(dir, os)) {
            long id = commit(j, TestMessages.content(11, 100), "a@example.com");
            assertThat(j.find(id)).isPresent();
            assertThat(j.stats().syncs()).isZero();
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.pending()).hasSize(1);
        }
    }

    @Test
    void messageLargerThanTheRecordLimitIsRefusedAndTheJournalCarriesOn() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults().withMaxRecordBytes(64 << 10))) {
            assertThatThrownBy(() -> commit(j, TestMessages.content(12, 100_000), "a@example.com"))
                    .isInstanceOf(JournalException.class).hasMessageContaining("exceeds");
            long id = commit(j, TestMessages.content(13, 60_000), "a@example.com");
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(id);
        }
    }

    @Test
    void recordsWrittenAcrossManyPrezeroWindowsReadBackIntact() throws Exception {
        List<Long> ids = new ArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            for (int i = 0; i < 300; i++) {
                long id = commit(j, TestMessages.content(i, 40_000), "a@example.com", "b@example.com");
                ids.add(id);
                j.record(List.of(new Outcome(id, 0, OutcomeKind.DELIVERED, i, 0, "250 ok " + i)));
            }
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
            for (int i = 0; i < ids.size(); i++) {
                long id = ids.get(i);
                QueuedMessage q = j.find(id).orElseThrow();
                assertThat(q.recipientStates()).containsExactly(OutcomeKind.DELIVERED, null);
                assertThat(q.lastDetail()).isEqualTo("250 ok " + i);
                assertThat(TestMessages.readBody(j, id)).isEqualTo(TestMessages.content(i, 40_000));
            }
        }
    }
}

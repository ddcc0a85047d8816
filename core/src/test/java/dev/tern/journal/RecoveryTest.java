package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {
    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(4096, 64, 64);
    private final JournalSettings settings = JournalSettings.defaults();

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private long commit(Journal j) throws JournalException {
        long id = QueueId.next();
        MessageBody b = TestMessages.body(pool, TestMessages.content(id, 700));
        try {
            j.commit(TestMessages.envelope(id, "s@example.org", "a@example.com"), b);
        } finally {
            b.release();
        }
        return id;
    }

    /** Appends a raw document to the journal directory, as a foreign or future writer might. */
    private void appendRaw(byte[] bytes) {
        try (SingleChronicleQueue q = ChronicleJournal.builder(dir, settings.rollInterval(), settings.maxRecordBytes(),
                InstantSource.system()).build();
             ExcerptAppender app = q.createAppender();
             DocumentContext dc = app.writingDocument()) {
            dc.wire().bytes().write(bytes);
        }
    }

    @Test
    void unparseableRecordIsSkippedAndTheRestRecovered() throws Exception {
        long before;
        long after;
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            before = commit(j);
        }
        appendRaw(new byte[] {99, 1, 2, 3});
        appendRaw(new byte[] {RecordCodec.MESSAGE, 1, 2});
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(before);
            after = commit(j);
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(before, after);
        }
    }

    @Test
    void outcomeForAnUnknownMessageIsIgnored() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            long id = commit(j);
            j.record(List.of(new Outcome(id + 1, 0, OutcomeKind.DELIVERED, 1, 0, "250 ok")));
            assertThat(j.find(id)).isPresent();
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            assertThat(j.pending()).hasSize(1);
        }
    }

    @Test
    void outcomeWithAnImpossibleRecipientIndexIsRefused() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            long id = commit(j);
            assertThatThrownBy(() -> j.record(List.of(new Outcome(id, -1, OutcomeKind.DELIVERED, 1, 0, "x"))))
                    .isInstanceOf(JournalException.class);
            assertThat(j.find(id)).isPresent();
        }
    }

    @Test
    void commitAfterCloseAnswersJournalException() throws Exception {
        ChronicleJournal j = ChronicleJournal.open(dir, settings);
        j.close();
        Envelope e = TestMessages.envelope(QueueId.next(), "s@example.org", "a@example.com");
        MessageBody b = TestMessages.body(pool, TestMessages.content(1, 100));
        try {
            assertThatThrownBy(() -> j.commit(e, b)).isInstanceOf(JournalException.class);
        } finally {
            b.release();
        }
    }

    @Test
    void duplicateQueueIdIsRefused() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            long id = commit(j);
            Envelope e = TestMessages.envelope(id, "s@example.org", "a@example.com");
            MessageBody b = TestMessages.body(pool, TestMessages.content(2, 100));
            try {
                assertThatThrownBy(() -> j.commit(e, b)).isInstanceOf(JournalException.class);
            } finally {
                b.release();
            }
            assertThat(j.pending()).hasSize(1);
        }
    }

    @Test
    void outcomeDetailsUpToTheLimitAreKeptWhole() throws Exception {
        // 333 chars of 3 bytes (999 bytes), 1000 ASCII bytes, and 250 4-byte characters: each fits in the 1000.
        List<String> details = List.of("€".repeat(333), "x".repeat(1000), "\uD83D\uDCEC".repeat(250));
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            for (String detail : details) {
                long id = commit(j);
                j.record(List.of(new Outcome(id, 0, OutcomeKind.DEFERRED, 1, 5, detail)));
                assertThat(j.find(id).orElseThrow().lastDetail()).isEqualTo(detail);
            }
        }
    }

    @Test
    void longOutcomeDetailIsCutAtAUtf8Boundary() throws Exception {
        String detail = "451 " + "é".repeat(2000);
        long id;
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            id = commit(j);
            j.record(List.of(new Outcome(id, 0, OutcomeKind.DEFERRED, 1, 5, detail)));
            assertThat(detail).startsWith(j.find(id).orElseThrow().lastDetail());
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            String stored = j.find(id).orElseThrow().lastDetail();
            assertThat(detail).startsWith(stored);
            assertThat(stored.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                    .isLessThanOrEqualTo(RecordCodec.MAX_DETAIL_BYTES);
        }
    }
}

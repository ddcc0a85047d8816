package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalReaderTest {
    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(4096, 64, 64);

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private long commit(Journal j, byte[] content) throws JournalException {
        long id = QueueId.next();
        MessageBody b = TestMessages.body(pool, content);
        try {
            j.commit(TestMessages.envelope(id, "s@example.org", "a@example.com", "b@example.com"), b);
        } finally {
            b.release();
        }
        return id;
    }

    @Test
    void scanSeesWhatTheRunningJournalCommittedAndTheWriterCarriesOn() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            long a = commit(j, TestMessages.content(1, 5000));
            long b = commit(j, TestMessages.content(2, 5000));
            j.record(List.of(new Outcome(a, 0, OutcomeKind.DEFERRED, 1, 42, "451 later")));

            List<QueuedMessage> seen = JournalReader.scan(dir);
            assertThat(seen).extracting(QueuedMessage::queueId).containsExactly(a, b);
            assertThat(seen.getFirst().recipientStates()).containsExactly(OutcomeKind.DEFERRED, null);

            long c = commit(j, TestMessages.content(3, 5000));
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(a, b, c);
        }
    }

    @Test
    void readerStreamsTheStoredBody() throws Exception {
        byte[] content = TestMessages.content(4, 40_000);
        long id;
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            id = commit(j, content);
        }
        JournalReader r = JournalReader.open(dir);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.readBody(id, piece -> {
            byte[] bytes = new byte[piece.remaining()];
            piece.get(bytes);
            out.writeBytes(bytes);
        });
        assertThat(out.toByteArray()).isEqualTo(content);
    }

    @Test
    void headersStopAtTheFirstEmptyLine() throws Exception {
        byte[] content = "Subject: hi\r\nFrom: a@example.org\r\n\r\nbody line\r\n".getBytes(StandardCharsets.US_ASCII);
        long id;
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            id = commit(j, content);
        }
        assertThat(JournalReader.open(dir).headers(id)).isEqualTo("Subject: hi\r\nFrom: a@example.org\r\n\r\n");
    }

    @Test
    void missingDirectoryAnswersJournalException() {
        assertThatThrownBy(() -> JournalReader.scan(dir.resolve("absent"))).isInstanceOf(JournalException.class);
    }
}

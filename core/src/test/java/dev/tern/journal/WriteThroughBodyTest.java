package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies of {@link JournalWriter#WRITE_THROUGH_BYTES} or more reach the cycle file through {@code writev} instead of
 * Chronicle's mapping; they must read back exactly, next to mapped ones, across mapped chunk boundaries, and after the
 * journal is reopened.
 */
class WriteThroughBodyTest {
    /** Small records make small mapped chunks (4x the record limit), so a few bodies cross several chunk edges. */
    private static final long MAX_RECORD = 4L << 20;

    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(64 << 10, 0, 256);

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private static JournalSettings settings() {
        JournalSettings d = JournalSettings.defaults();
        return new JournalSettings(d.durability(), d.maxBatch(), d.rollInterval(), MAX_RECORD, d.compactRatio());
    }

    private long commit(Journal j, byte[] content) throws JournalException {
        long id = QueueId.next();
        MessageBody b = TestMessages.body(pool, content);
        try {
            j.commit(TestMessages.envelope(id, "sender@example.org", "a@example.com"), b);
        } finally {
            b.release();
        }
        return id;
    }

    /** Large bodies (3 MiB, over several chunk edges) alternate with small mapped ones. */
    private static List<byte[]> mixedContents() {
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            contents.add(TestMessages.content(i, i % 2 == 0 ? 3 << 20 : 300 + 37 * i));
        }
        return contents;
    }

    @Test
    void largeAndSmallBodiesReadBackExactlyAcrossChunkEdges() throws Exception {
        List<byte[]> contents = mixedContents();
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings())) {
            List<Long> ids = new ArrayList<>();
            for (byte[] c : contents) {
                ids.add(commit(j, c));
            }
            for (int i = 0; i < ids.size(); i++) {
                assertThat(TestMessages.sha256(TestMessages.readBody(j, ids.get(i))))
                        .as("body %d", i).isEqualTo(TestMessages.sha256(contents.get(i)));
            }
        }
    }

    @Test
    void largeBodiesSurviveReopen() throws Exception {
        List<byte[]> contents = mixedContents();
        List<Long> ids = new ArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings())) {
            for (byte[] c : contents) {
                ids.add(commit(j, c));
            }
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings())) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
            for (int i = 0; i < ids.size(); i++) {
                assertThat(TestMessages.sha256(TestMessages.readBody(j, ids.get(i))))
                        .as("body %d", i).isEqualTo(TestMessages.sha256(contents.get(i)));
            }
        }
    }

    @Test
    void writeThroughLeavesTheCallersChunkPositionsAlone() throws Exception {
        byte[] content = TestMessages.content(7, 1 << 20);
        MessageBody b = TestMessages.body(pool, content);
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings())) {
            List<Integer> before = new ArrayList<>();
            for (ByteBuffer c : b.chunks()) {
                before.add(c.position());
            }
            j.commit(TestMessages.envelope(QueueId.next(), "sender@example.org", "a@example.com"), b);
            List<Integer> after = new ArrayList<>();
            for (ByteBuffer c : b.chunks()) {
                after.add(c.position());
            }
            assertThat(after).isEqualTo(before);
        } finally {
            b.release();
        }
    }
}

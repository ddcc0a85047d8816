package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import dev.tern.testing.SmallTmpfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local storage failures answer JournalException (SMTP 451 4.3.0) and the journal heals once storage is back. */
class StorageFailureTest {
    @TempDir
    Path tmp;

    private final BufferPool pool = new BufferPool(8192, 64, 64);
    private SmallTmpfs tmpfs;

    @AfterEach
    void cleanUp() throws Exception {
        if (tmpfs != null) {
            tmpfs.close();
        }
        assertThat(pool.outstanding()).isZero();
    }

    private long commit(Journal j, int size) throws JournalException {
        long id = QueueId.next();
        MessageBody b = TestMessages.body(pool, TestMessages.content(id, size));
        try {
            j.commit(TestMessages.envelope(id, "s@example.org", "a@example.com"), b);
        } finally {
            b.release();
        }
        return id;
    }

    @Test
    void fullDiskFailsTheCommitAndTheJournalRecoversWhenSpaceReturns() throws Exception {
        Path fs = Files.createDirectory(tmp.resolve("fs"));
        tmpfs = SmallTmpfs.mount(fs, 4);
        Path dir = fs.resolve("journal");
        JournalSettings settings = JournalSettings.defaults().withMaxRecordBytes(256 << 10);
        List<Long> acked = new ArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            acked.add(commit(j, 10_000));
            Path filler = tmpfs.fill("filler");

            JournalException failure = null;
            for (int i = 0; i < 40 && failure == null; i++) {
                try {
                    acked.add(commit(j, 100_000));
                } catch (JournalException e) {
                    failure = e;
                }
            }
            assertThat(failure).as("the disk filled up").isNotNull();
            assertThat(j.stats().failures()).isPositive();

            Files.delete(filler);
            acked.add(commit(j, 100_000));
            acked.add(commit(j, 100_000));
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(acked);
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(acked);
            assertThat(TestMessages.readBody(j, acked.getLast())).isEqualTo(TestMessages.content(acked.getLast(),
                    100_000));
        }
    }

    @Test
    void openingARegularFileAsTheDirectoryAnswersJournalException() throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        assertThatThrownBy(() -> ChronicleJournal.open(file, JournalSettings.defaults()))
                .isInstanceOf(JournalException.class);
    }

    @Test
    void unwritableCycleFileFailsTheCommitAndTheJournalRecoversOnceItIsWritable() throws Exception {
        FakeClock clock = new FakeClock(Instant.parse("2026-11-25T10:05:00Z"));
        Path dir = tmp.resolve("journal");
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), clock)) {
            long first = commit(j, 1000);
            assertThat(dir.resolve("20261125-10F.cq4")).exists();
            // The next hour's cycle file cannot be created: a directory squats on its name.
            Path squatter = Files.createDirectory(dir.resolve("20261125-11F.cq4"));
            clock.advance(Duration.ofHours(1));
            assertThatThrownBy(() -> commit(j, 1000)).isInstanceOf(JournalException.class);

            Files.delete(squatter);
            long second = commit(j, 1000);
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactly(first, second);
        }
    }
}

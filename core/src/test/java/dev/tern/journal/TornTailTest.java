package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.BufferedReader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JVM killed in the middle of a document leaves a torn tail and Chronicle's append lock held by a dead pid. */
class TornTailTest {
    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(8192, 64, 64);

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    private record Torn(List<Long> acked, long torn) {
    }

    private Torn tear(int n) throws Exception {
        Process p = ChildJvm.start("tear", dir.toString(), Integer.toString(n));
        List<Long> acked = new ArrayList<>();
        long torn = 0;
        try (BufferedReader r = ChildJvm.stdout(p)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acked.add(Long.parseLong(line.substring(4)));
                } else if (line.startsWith("TORN ")) {
                    torn = Long.parseLong(line.substring(5));
                }
            }
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(acked).hasSize(n);
        assertThat(torn).isNotZero();
        return new Torn(acked, torn);
    }

    private long commit(Journal j) throws JournalException {
        long id = QueueId.next();
        MessageBody b = TestMessages.body(pool, JournalChild.content(id));
        try {
            j.commit(TestMessages.envelope(id, "s@example.org", "a@example.com"), b);
        } finally {
            b.release();
        }
        return id;
    }

    private static void assertIntact(Journal j, List<Long> ids) throws JournalException {
        assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
        for (long id : ids) {
            assertThat(TestMessages.readBody(j, id)).isEqualTo(JournalChild.content(id));
        }
    }

    @Test
    void tornTailIsSkippedAndTheJournalStaysAppendableWithoutALockTimeout() throws Exception {
        Torn t = tear(3);
        List<Long> expected = new ArrayList<>(t.acked());
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
                assertIntact(j, expected);
                expected.add(commit(j));
            }
        });
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertIntact(j, expected);
            assertThat(j.find(t.torn())).isEmpty();
        }
    }

    @Test
    void tornTailInAnOlderCycleDoesNotHideLaterCycles() throws Exception {
        Torn t = tear(2);
        List<Long> expected = new ArrayList<>(t.acked());
        InstantSource later = new FakeClock(Instant.now().plus(Duration.ofHours(2)));
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), later)) {
                assertIntact(j, expected);
                expected.add(commit(j));
            }
        });
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), later)) {
            assertIntact(j, expected);
        }
    }
}

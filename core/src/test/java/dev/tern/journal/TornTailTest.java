package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.BufferedReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A JVM killed in the middle of a document leaves a torn tail and Chronicle's append lock held by a dead pid: its
 * header still "not complete", part of its bytes written. Nothing in it was acknowledged; the journal clears it at
 * open, so that the first commit after the restart neither waits for a writer that is gone nor leaves the old bytes
 * where the next header will be read.
 */
class TornTailTest {
    /** Chronicle's header word of a document being written whose length is not yet known. */
    private static final int NOT_COMPLETE_UNKNOWN_LENGTH = 0x8000_0000;

    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(8192, 64, 64);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        log.start();
        logger().addAppender(log);
    }

    @AfterEach
    void noLeaks() {
        logger().detachAppender(log);
        assertThat(pool.outstanding()).isZero();
    }

    private static Logger logger() {
        return (Logger) LoggerFactory.getLogger(TornTail.class);
    }

    private record Torn(List<Long> acked, long torn) {
    }

    private Torn tear(int n) throws Exception {
        return tear(n, 0);
    }

    private Torn tear(int n, int hoursLater) throws Exception {
        Process p = ChildJvm.start("tear", dir.toString(), Integer.toString(n), Integer.toString(hoursLater));
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

    /**
     * Opens after the tear within 5 s (no wait for the dead writer's lock or header), finds every acknowledged message
     * intact, commits one more, and finds them all again after another restart, the torn one never.
     */
    private void recoversAndAppends(Torn t, InstantSource clock) throws Exception {
        List<Long> expected = new ArrayList<>(t.acked());
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), clock)) {
                assertIntact(j, expected);
                expected.add(commit(j));
            }
        });
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), clock)) {
            assertIntact(j, expected);
            assertThat(j.find(t.torn())).isEmpty();
        }
    }

    @Test
    void tornTailIsSkippedAndTheJournalStaysAppendableWithoutALockTimeout() throws Exception {
        recoversAndAppends(tear(3), InstantSource.system());
    }

    @Test
    void tornTailInAnOlderCycleDoesNotHideLaterCycles() throws Exception {
        recoversAndAppends(tear(2), new FakeClock(Instant.now().plus(Duration.ofHours(2))));
    }

    /** A crash at the journal's very first record: nothing to read, and nothing lost. */
    @Test
    void aTornFirstRecordOfAnEmptyJournalDoesNotStopIt() throws Exception {
        recoversAndAppends(tear(0), InstantSource.system());
    }

    /** A crash at a cycle's first record: the new cycle file holds Chronicle's headers and the torn document. */
    @Test
    void aTornFirstRecordOfANewCycleFileDoesNotStopTheJournal() throws Exception {
        recoversAndAppends(tear(2, 2), new FakeClock(Instant.now().plus(Duration.ofHours(2))));
    }

    @Test
    void aTornRecordIsClearedAndTheNextCommitsDoNotWait() throws Exception {
        List<Long> ids = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            for (int i = 0; i < 5; i++) {
                contents.add(TestMessages.content(i, 300 + 200 * i));
                ids.add(TestMessages.commit(j, pool, contents.getLast(), "s@example.org", "r" + i + "@example.com"));
            }
        }
        // A record torn in its body, longer than the next one, so that its text would outlast the overwrite.
        Rec tail = lastRecord();
        byte[] torn = TestMessages.content(7, 40_000);
        ByteBuffer b = ByteBuffer.allocate(4 + torn.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(NOT_COMPLETE_UNKNOWN_LENGTH).put(torn).flip();
        long at = (tail.end + 3) & ~3L;
        try (FileChannel ch = FileChannel.open(tail.file, StandardOpenOption.WRITE)) {
            ch.write(b, at);
        }

        for (int restart = 0; restart < 2; restart++) {
            try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
                byte[] c = TestMessages.content(100 + restart, 1_000);
                contents.add(c);
                ids.add(commitWithin(j, c, 2));
            }
        }
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyElementsOf(ids);
            for (int i = 0; i < ids.size(); i++) {
                assertThat(TestMessages.readBody(j, ids.get(i))).isEqualTo(contents.get(i));
            }
        }
        assertThat(log.list).singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                .contains(tail.file.getFileName().toString(), "from offset " + at, "never completed"));
    }

    /**
     * The counterpart: a record whose header reads "not complete" followed by a later cycle that holds records is no
     * torn tail but damage (records beyond it cannot be read), and the journal refuses to start.
     */
    @Test
    void anUnfinishedLookingRecordBeforeALaterCycleWithRecordsIsRefused() throws Exception {
        FakeClock clock = new FakeClock(Instant.now());
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults(), clock)) {
            commit(j);
            commit(j);
            clock.advance(Duration.ofHours(2));
            commit(j);
        }
        Rec first = lastRecordOfTheFirstFile();
        try (FileChannel ch = FileChannel.open(first.file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(word, first.header);
            word.putInt(0, word.getInt(0) | NOT_COMPLETE_UNKNOWN_LENGTH).clear();
            ch.write(word, first.header);
        }
        assertThatThrownBy(() -> ChronicleJournal.open(dir, JournalSettings.defaults(), clock).close())
                .isInstanceOf(JournalException.class).hasMessageContaining("is damaged")
                .hasMessageContaining("after it holds records");
    }

    @Test
    void aCleanJournalIsLeftAsItIs() throws Exception {
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            TestMessages.commit(j, pool, TestMessages.content(1, 500), "s@example.org", "r@example.com");
        }
        Rec tail = lastRecord();
        byte[] before = Files.readAllBytes(tail.file);
        assertThat(TornTail.clear(dir, tail.file, tail.end, 1 << 20)).isZero();
        // Walked from the file's start: every document is complete.
        assertThat(TornTail.clear(dir, null, -1, 1 << 20)).isZero();
        assertThat(Files.readAllBytes(tail.file)).isEqualTo(before);
        assertThat(log.list).isEmpty();
    }

    /** Commits {@code content}, failing the test when the commit takes longer than {@code seconds}. */
    private long commitWithin(ChronicleJournal j, byte[] content, int seconds) throws Exception {
        FutureTask<Long> commit = new FutureTask<>(
                () -> TestMessages.commit(j, pool, content, "s@example.org", "late@example.com"));
        Thread.ofPlatform().daemon(true).start(commit);
        try {
            return commit.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            commit.get(); // let it finish (and release its body) before the journal closes
            throw new AssertionError("the first commit after the restart waited more than " + seconds + " s");
        }
    }

    /** A record of the journal: its cycle file, where its header word starts and where its bytes end. */
    private record Rec(Path file, long header, long end) {
    }

    /** Every record, in order, read from the journal as it is on disk. */
    private List<Rec> records() {
        JournalSettings s = JournalSettings.defaults();
        List<Rec> all = new ArrayList<>();
        try (SingleChronicleQueue q = ChronicleJournal.builder(dir, s.rollInterval(), s.maxRecordBytes(),
                InstantSource.system()).readOnly(true).build(); ExcerptTailer t = q.createTailer()) {
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return all;
                    }
                    all.add(new Rec(t.currentFile().toPath(), dc.wire().bytes().readPosition() - 4,
                            dc.wire().bytes().readLimit()));
                }
            }
        }
    }

    /** The first cycle file's last record. */
    private Rec lastRecordOfTheFirstFile() {
        List<Rec> all = records();
        Path first = all.getFirst().file();
        return all.stream().filter(r -> r.file().equals(first)).reduce((a, b) -> b).orElseThrow();
    }

    /** The journal's last record. */
    private Rec lastRecord() {
        return records().getLast();
    }
}

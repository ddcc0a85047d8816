package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import net.jqwik.api.lifecycle.BeforeTry;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.LoggerFactory;

/**
 * The relay restarts on journal files damaged on disk (a torn write after power loss, a bad sector, an operator's
 * mistake). A journal of a few dozen messages and outcomes is written through {@link ChronicleJournal}, closed,
 * damaged in generated ways, and reopened.
 *
 * <p>What Tern promises (architecture.md "Durability", package-info "Recovery", {@link Recovery}): a torn tail is
 * invisible, a complete record it cannot parse is logged ("journal record ... skipped") and skipped, never fatal; an
 * open that cannot proceed throws {@link JournalException}. Records carry no checksum, so some damage cannot be
 * detected and these properties do not ask for it:
 * <ul>
 *   <li>a changed byte of a body, or of an envelope's text (an address, the HELO): the message is recovered as
 *       changed;</li>
 *   <li>a changed recipient index, kind or queue id inside an outcome record: the outcome lands elsewhere (a
 *       message may be taken as delivered by another one's outcome, or stay pending);</li>
 *   <li>a file cut inside a record whose declared lengths still fit: Chronicle maps the missing end as zeros.</li>
 * </ul>
 * The exactness checks are therefore made only for messages whose records' bytes were untouched and whose id does
 * not appear in any damaged byte ("clean" messages). Any message may be damaged in the ways above, but none may be
 * invented.
 *
 * <p>Each try builds its own small journal (durability OS: a force per message would only add time, and nothing
 * here crashes before the close) in a fresh directory; the cycle file is sparse, so building is cheap.
 */
class DamagedJournalProperties {
    private static final Duration OPEN_BOUND = Duration.ofSeconds(10);
    private static final int PAGE = 4096;
    private static final String SENDER = "sender@example.org";
    private static final JournalSettings SETTINGS = JournalSettings.defaults().withDurability(Durability.OS);
    private static final Instant START = Instant.parse("2026-11-25T10:00:00Z");

    private BufferPool pool;
    private ListAppender<ILoggingEvent> recoveryLog;

    @BeforeProperty
    void captureRecoveryLog() {
        pool = new BufferPool(4096, 64, 64);
        recoveryLog = new ListAppender<>();
        recoveryLog.start();
        logger().addAppender(recoveryLog);
    }

    @BeforeTry
    void forgetEarlierTries() {
        recoveryLog.list.clear();
    }

    @AfterProperty
    void releaseLog() {
        logger().detachAppender(recoveryLog);
        assertThat(pool.outstanding()).isZero();
    }

    private static ch.qos.logback.classic.Logger logger() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Recovery.class);
    }

    // ---------------------------------------------------------------- what is generated

    /** The journal to write: how many messages, whether the clock rolls to a second cycle halfway, a content seed. */
    record Plan(int messages, boolean roll, long seed) {
    }

    /** How a damage is made; {@link Damage} resolves it against the files' real layout. */
    enum Kind {
        /** 1..8 bytes XORed with a non-zero mask, anywhere in the written part of a cycle file. */
        FLIP_BYTES,
        /** A range of 1..4096 bytes zeroed at any offset. */
        ZERO_RANGE,
        /** A 4096-byte page, aligned, zeroed (a lost sector group / torn page after power loss). */
        ZERO_PAGE,
        /** 1..64 random bytes written over the data. */
        GARBAGE_RANGE,
        /** The file cut short somewhere in its records. */
        CUT_SHORT,
        /** Random bytes right after the last record, where the next header would go. */
        GARBAGE_AFTER_LAST_RECORD,
        /** Random bytes appended at the file's physical end (past Chronicle's sparse blocks). */
        APPEND_AT_FILE_END,
        /** One record's 4-byte Chronicle header changed (zeroed, flagged incomplete or metadata, length moved). */
        RECORD_HEADER,
        /** Bytes of Chronicle's store header document (SCQStore, after its first word) or of its index arrays. */
        STORE_METADATA
    }

    /** One damage: {@code where} and {@code size} are fractions/lengths resolved against the real layout. */
    record Damage(Kind kind, double where, int size, long salt) {
    }

    @Provide
    Arbitrary<Plan> plans() {
        return Combinators.combine(Arbitraries.integers().between(20, 40), Arbitraries.of(false, true),
                Arbitraries.longs()).as(Plan::new);
    }

    private static Arbitrary<Damage> damage(Arbitrary<Kind> kinds) {
        return Combinators.combine(kinds, Arbitraries.doubles().between(0, 1).ofScale(6),
                Arbitraries.integers().between(1, PAGE), Arbitraries.longs()).as(Damage::new);
    }

    /** Damage confined to record payloads: no Chronicle header word, no store metadata, no length change. */
    @Provide
    Arbitrary<List<Damage>> payloadDamage() {
        return damage(Arbitraries.of(Kind.FLIP_BYTES, Kind.ZERO_RANGE, Kind.GARBAGE_RANGE)).list().ofMinSize(1)
                .ofMaxSize(3);
    }

    /** Every kind; a store header's first word and metadata.cq4t are the disabled properties' (known bugs). */
    @Provide
    Arbitrary<List<Damage>> anyDamage() {
        return damage(Arbitraries.of(Kind.values())).list().ofMinSize(1).ofMaxSize(3);
    }

    @Provide
    Arbitrary<Damage> headerDamage() {
        return damage(Arbitraries.of(Kind.RECORD_HEADER, Kind.ZERO_PAGE, Kind.CUT_SHORT));
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = 50)
    void payloadDamageCostsAtMostTheDamagedMessages(@ForAll("plans") Plan plan,
                                                    @ForAll("payloadDamage") List<Damage> damages)
            throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = s.damage(damages, true);
            Opened o = s.reopen(applied);
            assertThat(o.failure).as("%s: open failed", applied).isNull();
            try (ChronicleJournal j = o.journal) {
                s.assertNothingInvented(j, applied);
                s.assertCleanMessagesExact(j, s.suspects(applied), Long.MAX_VALUE, applied);
                s.assertAcceptsAndKeepsNewMail(j, applied);
            }
            s.assertReopenKeepsEverything(applied);
        }
    }

    @Property(tries = 50)
    void damagedMessageRecordIsRecoveredOrReported(@ForAll("plans") Plan plan,
                                                  @ForAll("payloadDamage") List<Damage> damages) throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = s.damage(damages, true);
            Opened o = s.reopen(applied);
            assertThat(o.failure).as("%s: open failed", applied).isNull();
            try (ChronicleJournal j = o.journal) {
                for (long id : s.expectedPending()) {
                    if (j.find(id).isEmpty() && s.messageRecordDamaged(id, applied)) {
                        assertThat(skippedWarnings()).as("%s: message %s gone without a log line", applied, id)
                                .isNotEmpty();
                    }
                }
            }
        }
    }

    @Property(tries = 60)
    void anyDamageNeverHangsThrowsUndocumentedOrInvents(@ForAll("plans") Plan plan,
                                                         @ForAll("anyDamage") List<Damage> damages)
            throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = s.damage(damages, false);
            Opened o = s.reopen(applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return;
            }
            try (ChronicleJournal j = o.journal) {
                s.assertNothingInvented(j, applied);
                // Everything before the first damaged byte was read before Chronicle met any damage.
                s.assertCleanMessagesExact(j, s.suspects(applied), s.firstDamage(applied), applied);
                // New mail is not tried here: see the two disabled properties below for what it meets.
            }
            Opened again = s.reopen(applied);
            if (again.failure != null) {
                assertRefusedClearly(again.failure, s.dir, applied);
            } else {
                again.journal.close();
            }
        }
    }

    @Property(tries = 20)
    void garbageAfterTheLastRecordDoesNotStallTheFirstCommit(@ForAll("plans") Plan plan, @ForAll long salt)
            throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            Damage d = new Damage(Kind.GARBAGE_AFTER_LAST_RECORD, 1, 16, salt);
            List<Applied> applied = s.damage(List.of(d), false);
            Opened o = s.reopen(applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return;
            }
            try (ChronicleJournal j = o.journal) {
                FutureTask<Long> commit = new FutureTask<>(() -> s.commit(j, 1, 300));
                Thread.ofPlatform().daemon(true).start(commit);
                boolean stalled = false;
                try {
                    commit.get(2, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    stalled = true;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).as("%s", applied).isInstanceOf(JournalException.class);
                }
                if (stalled) {
                    long started = System.nanoTime();
                    commit.get(); // let it finish (and release its body) before the close
                    fail(applied + ": the first commit after recovery stalled "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started + 2_000_000_000L) + " ms");
                }
            }
        }
    }

    @Property(tries = 15)
    void mailAcceptedAfterRecoveryFromHeaderDamageSurvivesTheNextRestart(@ForAll("plans") Plan plan,
                                                                        @ForAll("headerDamage") Damage damage)
            throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = s.damage(List.of(damage), false);
            Opened o = s.reopen(applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return; // refusing to start is a documented answer
            }
            try (ChronicleJournal j = o.journal) {
                s.assertAcceptsAndKeepsNewMail(j, applied);
            }
            s.assertReopenKeepsEverything(applied);
        }
    }

    @Property(tries = 15)
    void recordsAfterADamagedHeaderAreRecoveredOrReported(@ForAll("plans") Plan plan,
                                                         @ForAll("headerDamage") Damage damage) throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = s.damage(List.of(damage), false);
            Opened o = s.reopen(applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return;
            }
            try (ChronicleJournal j = o.journal) {
                Set<Long> suspects = s.suspects(applied);
                List<Long> lost = new ArrayList<>();
                for (long id : s.expectedPending()) {
                    if (!suspects.contains(id) && j.find(id).isEmpty()) {
                        lost.add(id);
                    }
                }
                if (!lost.isEmpty()) {
                    assertThat(skippedWarnings()).as("%s: %s intact messages lost silently", applied, lost.size())
                            .isNotEmpty();
                }
            }
        }
    }

    @Property(tries = 2)
    void zeroedFirstPageIsRefusedPromptly(@ForAll("plans") Plan plan) throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            Path file = s.layout.files.getFirst();
            List<Applied> applied = List.of(s.zero(file, 0, PAGE, Kind.ZERO_PAGE));
            Opened o = s.reopen(Duration.ofSeconds(3), applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return;
            }
            try (ChronicleJournal j = o.journal) {
                assertThat(j.pending()).as("%s: the cycle's mail is silently gone", applied).isNotEmpty();
            }
        }
    }

    /** The refusal above, as a fixed example: it names the file and says why, within the 3 s bound. */
    @Example
    void zeroedFirstPageIsRefusedNamingTheFile() throws Exception {
        try (Scene s = Scene.build(new Plan(30, false, 7), pool)) {
            Path file = s.layout.files.getFirst();
            List<Applied> applied = List.of(s.zero(file, 0, PAGE, Kind.ZERO_PAGE));
            Opened o = s.reopen(Duration.ofSeconds(3), applied);
            assertThat(o.failure).as("%s: opened", applied).isNotNull();
            assertRefusedClearly(o.failure, s.dir, applied);
            assertThat(o.failure).hasMessageContaining(file.getFileName().toString())
                    .hasMessageContaining("header is zeros");
            assertThatThrownBy(() -> JournalReader.open(s.dir)).isInstanceOf(JournalException.class)
                    .hasMessageContaining("header is zeros");
        }
    }

    @Property(tries = 60)
    void damagedQueueMetadataIsRefusedOrRepaired(@ForAll("plans") Plan plan,
                                                @ForAll("metadataDamage") Damage damage) throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            List<Applied> applied = List.of(s.damageMetadataFile(damage));
            Opened o = s.reopen(applied);
            if (o.failure != null) {
                assertRefusedClearly(o.failure, s.dir, applied);
                return;
            }
            try (ChronicleJournal j = o.journal) {
                s.assertAcceptsAndKeepsNewMail(j, applied);
            }
        }
    }

    /**
     * Garbage inside the store header's fields (its {@code wireType} field name, found by the property above) passes
     * the header check; Chronicle cannot use the file and waits for a lock on it that it holds itself. Tern bounds
     * that wait (2 s, not Chronicle's 10), so the journal refuses promptly and says what to do.
     */
    @Example
    void garbageInTheStoreHeaderFieldsIsRefusedWithinSeconds() throws Exception {
        try (Scene s = Scene.build(new Plan(20, false, 0), pool)) {
            List<Applied> applied = List.of(s.damageMetadataFile(new Damage(Kind.GARBAGE_RANGE, 22.0 / PAGE, 15, 1)));
            Opened o = s.reopen(Duration.ofSeconds(5), applied);
            assertThat(o.failure).as("%s: opened", applied).isNotNull();
            assertRefusedClearly(o.failure, s.dir, applied);
            assertThat(o.failure).hasMessageContaining("move " + SingleChronicleQueue.QUEUE_METADATA_FILE + " aside");
        }
    }

    /**
     * A metadata file that Chronicle can read but not use (cut short at a page-relative offset): it would open the
     * queue read-only and every commit would fail. The journal refuses to start instead (its first document is cut,
     * so the header check finds it before Chronicle does), saying what to do.
     */
    @Example
    void metadataThatWouldOpenReadOnlyIsRefused() throws Exception {
        try (Scene s = Scene.build(new Plan(20, false, 0), pool)) {
            List<Applied> applied = List.of(s.damageMetadataFile(new Damage(Kind.CUT_SHORT, 100.0 / PAGE, 0, 0)));
            Opened o = s.reopen(applied);
            assertThat(o.failure).as("%s: opened", applied).isNotNull();
            assertRefusedClearly(o.failure, s.dir, applied);
            assertThat(o.failure).hasMessageContaining("move " + SingleChronicleQueue.QUEUE_METADATA_FILE + " aside");
        }
    }

    /**
     * A metadata file whose documents are not all complete and in place (the store header's word or name, an entry's
     * word, a cut) is refused at once, naming the file.
     */
    @Example
    void metadataWithoutAStoreHeaderIsRefusedPromptly() throws Exception {
        for (Damage d : List.of(new Damage(Kind.GARBAGE_RANGE, 0, 15, 1), new Damage(Kind.FLIP_BYTES, 0, 0, 2),
                new Damage(Kind.GARBAGE_RANGE, 6.0 / PAGE, 0, 3), new Damage(Kind.CUT_SHORT, 2.0 / PAGE, 0, 0),
                new Damage(Kind.GARBAGE_RANGE, 0, 0, 4), new Damage(Kind.GARBAGE_RANGE, 0x108 * 1.0 / PAGE, 3, 5))) {
            try (Scene s = Scene.build(new Plan(20, false, 0), pool)) {
                List<Applied> applied = List.of(s.damageMetadataFile(d));
                Opened o = s.reopen(Duration.ofSeconds(3), applied);
                assertThat(o.failure).as("%s: opened", applied).isNotNull();
                assertRefusedClearly(o.failure, s.dir, applied);
                assertThat(o.failure).hasMessageContaining(SingleChronicleQueue.QUEUE_METADATA_FILE)
                        .hasMessageContaining("move " + SingleChronicleQueue.QUEUE_METADATA_FILE + " aside");
            }
        }
    }

    @Provide
    Arbitrary<Damage> metadataDamage() {
        return damage(Arbitraries.of(Kind.FLIP_BYTES, Kind.GARBAGE_RANGE, Kind.CUT_SHORT));
    }

    @Property(tries = 10)
    void messageRecordWhoseLengthsDisagreeWithTheRecordIsSkipped(@ForAll("plans") Plan plan,
                                                                @ForAll("shrink") int shrink) throws Exception {
        try (Scene s = Scene.build(plan, pool)) {
            Layout.Rec victim = s.layout.records.stream().filter(r -> r.type == RecordCodec.MESSAGE)
                    .skip(plan.messages() / 2).findFirst().orElseThrow();
            List<Applied> applied = List.of(s.shrinkBodyLength(victim, shrink));
            Opened o = s.reopen(applied);
            assertThat(o.failure).isNull();
            try (ChronicleJournal j = o.journal) {
                long id = victim.ids.getFirst();
                if (j.find(id).isPresent()) {
                    assertThat(TestMessages.readBody(j, id)).as("%s: body of %s", applied, id)
                            .isEqualTo(s.written.get(id).body);
                } else {
                    assertThat(skippedWarnings()).as("%s", applied).isNotEmpty();
                }
            }
        }
    }

    @Provide
    Arbitrary<Integer> shrink() {
        return Arbitraries.integers().between(1, 90);
    }

    // ---------------------------------------------------------------- helpers

    private List<ILoggingEvent> skippedWarnings() {
        return recoveryLog.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .filter(e -> e.getFormattedMessage().contains("skipped")).toList();
    }

    /** A refusal is {@link JournalException}, naming the journal directory and saying what went wrong. */
    private static void assertRefusedClearly(Throwable t, Path dir, List<Applied> applied) {
        assertThat(t).as("%s: open threw %s", applied, t).isInstanceOf(JournalException.class);
        assertThat(t.getMessage()).as("%s", applied).contains(dir.toString());
    }

    /** What a damage did: which file, which bytes (for the report and the oracle). */
    record Applied(Kind kind, Path file, long from, long to, String note) {
        boolean touches(long a, long b) {
            return from < b && a < to;
        }

        @Override
        public String toString() {
            return kind + " " + file.getFileName() + " [" + from + "," + to + ")" + (note.isEmpty() ? "" : " " + note);
        }
    }

    /** What one message should look like. */
    private static final class Written {
        final long id;
        final EnvelopeRecord envelope;
        final byte[] body;
        final OutcomeKind[] states;
        final List<Set<OutcomeKind>> seen = new ArrayList<>();
        int attempts;

        Written(long id, EnvelopeRecord envelope, byte[] body) {
            this.id = id;
            this.envelope = envelope;
            this.body = body;
            this.states = new OutcomeKind[envelope.recipients().size()];
            for (int i = 0; i < states.length; i++) {
                seen.add(new HashSet<>());
            }
        }

        boolean isFinal() {
            return Arrays.stream(states).allMatch(k -> k != null && k.isFinal());
        }
    }

    /** A reopen's result: the journal, or what open threw. */
    private record Opened(ChronicleJournal journal, Throwable failure) {
    }

    /** Where the records lie in the cycle files, read back with a Chronicle tailer before any damage. */
    private static final class Layout {
        /** One record: its file, where its 4-byte Chronicle header starts, where its bytes end, the ids it names. */
        record Rec(Path file, int fileOrder, long header, long end, byte type, List<Long> ids) {
        }

        final List<Path> files = new ArrayList<>();
        final List<Rec> records = new ArrayList<>();

        long firstRecord(Path file) {
            return records.stream().filter(r -> r.file.equals(file)).mapToLong(Rec::header).min().orElseThrow();
        }

        long dataEnd(Path file) {
            return records.stream().filter(r -> r.file.equals(file)).mapToLong(Rec::end).max().orElseThrow();
        }

        static Layout read(Path dir) {
            Layout l = new Layout();
            try (SingleChronicleQueue q = ChronicleJournal.builder(dir, SETTINGS.rollInterval(),
                    SETTINGS.maxRecordBytes(), InstantSource.fixed(START)).readOnly(true).build();
                 ExcerptTailer t = q.createTailer()) {
                while (true) {
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        if (!dc.isData()) {
                            continue;
                        }
                        Path file = t.currentFile().toPath();
                        if (!l.files.contains(file)) {
                            l.files.add(file);
                        }
                        Bytes<?> b = dc.wire().bytes();
                        long start = b.readPosition();
                        long end = b.readLimit();
                        byte type = b.readByte(start);
                        List<Long> ids = new ArrayList<>();
                        if (type == RecordCodec.OUTCOMES) {
                            int n = b.readUnsignedShort(start + 1);
                            long p = start + 3;
                            for (int i = 0; i < n; i++) {
                                ids.add(b.readLong(p));
                                p += 8 + 2 + 1 + 8 + 8;
                                p += 2 + b.readUnsignedShort(p);
                            }
                        } else {
                            ids.add(b.readLong(start + 1));
                        }
                        l.records.add(new Rec(file, l.files.indexOf(file), start - 4, end, type, List.copyOf(ids)));
                    }
                }
            }
            return l;
        }
    }

    /** One try: a journal directory, what was written to it, and its layout. */
    private static final class Scene implements AutoCloseable {
        final Path dir;
        final Plan plan;
        final BufferPool pool;
        final FakeClock clock = new FakeClock(START);
        final Random random;
        final Map<Long, Written> written = new LinkedHashMap<>();
        Layout layout;
        /** What the journal held after {@link #assertAcceptsAndKeepsNewMail}. */
        List<Long> recovered = List.of();

        private Scene(Path dir, Plan plan, BufferPool pool) {
            this.dir = dir;
            this.plan = plan;
            this.pool = pool;
            this.random = new Random(plan.seed());
        }

        static Scene build(Plan plan, BufferPool pool) throws Exception {
            Scene s = new Scene(Files.createTempDirectory("tern-damaged-journal"), plan, pool);
            try (ChronicleJournal j = ChronicleJournal.open(s.dir, SETTINGS, s.clock)) {
                for (int i = 0; i < plan.messages(); i++) {
                    if (plan.roll() && i == plan.messages() / 2) {
                        s.clock.advance(Duration.ofHours(1));
                    }
                    s.commit(j, 1 + s.random.nextInt(3), 100 + s.random.nextInt(1500));
                    // The first message of each cycle stays pending, so no cycle is compacted away meanwhile.
                    if (i > 0 && i != plan.messages() / 2 && s.random.nextInt(3) > 0) {
                        s.recordOutcomes(j);
                    }
                }
            } catch (Exception | Error e) {
                s.close();
                throw e;
            }
            s.layout = Layout.read(s.dir);
            assertThat(s.layout.records.stream().filter(r -> r.type == RecordCodec.MESSAGE).count())
                    .isEqualTo(plan.messages());
            return s;
        }

        long commit(Journal j, int recipients, int size) throws JournalException {
            long id = QueueId.next();
            String[] to = new String[recipients];
            for (int i = 0; i < recipients; i++) {
                to[i] = "rcpt" + i + "@example.com";
            }
            Envelope e = TestMessages.envelope(id, SENDER, to);
            byte[] content = TestMessages.content(id, size);
            MessageBody b = TestMessages.body(pool, content);
            try {
                j.commit(e, b);
            } finally {
                b.release();
            }
            written.put(id, new Written(id, EnvelopeRecord.decode(ByteBuffer.wrap(e.array(), 0, e.length())),
                    content));
            return id;
        }

        /** One record() call of one or two outcomes for pending messages (never the first of a cycle). */
        void recordOutcomes(Journal j) throws JournalException {
            List<Written> candidates = written.values().stream().skip(1).filter(w -> !w.isFinal()).toList();
            if (candidates.isEmpty()) {
                return;
            }
            List<Outcome> outcomes = new ArrayList<>();
            Set<Written> touched = new HashSet<>();
            for (int n = 1 + random.nextInt(2); n > 0; n--) {
                Written w = candidates.get(random.nextInt(candidates.size()));
                int rcpt = random.nextInt(w.states.length);
                OutcomeKind kind = switch (random.nextInt(3)) {
                    case 0 -> OutcomeKind.DELIVERED;
                    case 1 -> OutcomeKind.DEFERRED;
                    default -> OutcomeKind.BOUNCED;
                };
                if (w.states[rcpt] != null && w.states[rcpt].isFinal()) {
                    continue;
                }
                long next = kind == OutcomeKind.DEFERRED ? clock.millis() + 60_000 : 0;
                outcomes.add(new Outcome(w.id, rcpt, kind, clock.millis(), next, kind + " reply"));
                w.states[rcpt] = kind;
                w.seen.get(rcpt).add(kind);
                touched.add(w);
            }
            if (outcomes.isEmpty()) {
                return;
            }
            j.record(outcomes);
            touched.forEach(w -> w.attempts++);
        }

        List<Long> expectedPending() {
            return written.values().stream().filter(w -> !w.isFinal()).map(w -> w.id).toList();
        }

        // ------------------------------------------------------------ damage

        List<Applied> damage(List<Damage> damages, boolean payloadOnly) throws IOException {
            List<Applied> applied = new ArrayList<>();
            // A cut goes last: the other damages are located on the file as it was written.
            List<Damage> ordered = damages.stream().sorted(Comparator.comparing(d -> d.kind() == Kind.CUT_SHORT))
                    .toList();
            for (Damage d : ordered) {
                applied.add(payloadOnly ? damagePayload(d) : damageAnywhere(d));
            }
            return applied;
        }

        /** Inside one record, never its header word: picks the record by {@code where}. */
        private Applied damagePayload(Damage d) throws IOException {
            List<Layout.Rec> recs = layout.records;
            Layout.Rec r = recs.get((int) Math.min(recs.size() - 1, d.where() * recs.size()));
            long from = r.header + 4;
            long span = r.end - from;
            Random rnd = new Random(d.salt());
            long at = from + Math.floorMod(d.salt(), span);
            return switch (d.kind()) {
                case FLIP_BYTES -> flip(r.file, at, Math.min(r.end, at + 1 + rnd.nextInt(8)), rnd);
                case ZERO_RANGE -> zero(r.file, at, Math.min(r.end, at + d.size()), Kind.ZERO_RANGE);
                default -> garbage(r.file, at, Math.min(r.end, at + 1 + d.size() % 64), rnd, d.kind());
            };
        }

        private Applied damageAnywhere(Damage d) throws IOException {
            Random rnd = new Random(d.salt());
            Path file = layout.files.get(rnd.nextInt(layout.files.size()));
            long first = layout.firstRecord(file);
            long end = layout.dataEnd(file);
            // Never the store header's first word: that is zeroedFirstPageIsRefusedPromptly's (disabled) business.
            long at = 4 + (long) (d.where() * (end - 4));
            return switch (d.kind()) {
                case FLIP_BYTES -> flip(file, at, Math.min(end, at + 1 + rnd.nextInt(8)), rnd);
                case ZERO_RANGE -> zero(file, at, Math.min(end, at + d.size()), Kind.ZERO_RANGE);
                case ZERO_PAGE -> {
                    long page = Math.max(PAGE, at / PAGE * PAGE);
                    yield zero(file, page, page + PAGE, Kind.ZERO_PAGE);
                }
                case GARBAGE_RANGE -> garbage(file, at, Math.min(end, at + 1 + d.size() % 64), rnd, d.kind());
                case CUT_SHORT -> cut(file, first + (long) (d.where() * (end - first)));
                case GARBAGE_AFTER_LAST_RECORD -> garbage(file, end, end + 1 + d.size() % 64, rnd, d.kind());
                case APPEND_AT_FILE_END -> {
                    long size = Files.size(file);
                    yield garbage(file, size, size + 1 + d.size() % 64, rnd, d.kind());
                }
                case RECORD_HEADER -> header(d, rnd);
                case STORE_METADATA -> {
                    long from = 4 + (long) (d.where() * (first - 4));
                    yield garbage(file, from, Math.min(first, from + 1 + d.size() % 16), rnd, d.kind());
                }
            };
        }

        /** Changes one record's Chronicle header word: zero, incomplete bit, metadata bit, or a moved length. */
        private Applied header(Damage d, Random rnd) throws IOException {
            Layout.Rec r = layout.records.get((int) Math.min(layout.records.size() - 1,
                    d.where() * layout.records.size()));
            int old = readInt(r.file, r.header);
            int len = old & 0x3FFF_FFFF;
            String how;
            int now;
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    now = 0;
                    how = "zeroed";
                }
                case 1 -> {
                    now = old | 0x8000_0000;
                    how = "incomplete bit";
                }
                case 2 -> {
                    now = old | 0x4000_0000;
                    how = "metadata bit";
                }
                case 3 -> {
                    now = (old & 0xC000_0000) | Math.max(1, len - 1 - rnd.nextInt(Math.max(1, len - 1)));
                    how = "shorter";
                }
                default -> {
                    now = (old & 0xC000_0000) | (len + 1 + rnd.nextInt(2 * PAGE));
                    how = "longer";
                }
            }
            writeInt(r.file, r.header, now);
            return new Applied(Kind.RECORD_HEADER, r.file, r.header, r.header + 4,
                    how + String.format(" 0x%08x->0x%08x", old, now));
        }

        Applied flip(Path file, long from, long to, Random rnd) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                for (long p = from; p < to; p++) {
                    f.seek(p);
                    int b = f.read();
                    f.seek(p);
                    f.write(b ^ (1 + rnd.nextInt(255)));
                }
            }
            return new Applied(Kind.FLIP_BYTES, file, from, to, "");
        }

        Applied zero(Path file, long from, long to, Kind kind) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.seek(from);
                f.write(new byte[(int) (to - from)]);
            }
            return new Applied(kind, file, from, to, "");
        }

        Applied garbage(Path file, long from, long to, Random rnd, Kind kind) throws IOException {
            byte[] g = new byte[(int) (to - from)];
            rnd.nextBytes(g);
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.seek(from);
                f.write(g);
            }
            return new Applied(kind, file, from, to, "");
        }

        Applied cut(Path file, long at) throws IOException {
            long size = Files.size(file);
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(at);
            }
            return new Applied(Kind.CUT_SHORT, file, at, Long.MAX_VALUE, "was " + size + " bytes");
        }

        Applied damageMetadataFile(Damage d) throws IOException {
            Path meta = dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE);
            long size = Files.size(meta);
            Random rnd = new Random(d.salt());
            long at = (long) (d.where() * Math.min(size, PAGE));
            return switch (d.kind()) {
                case CUT_SHORT -> cut(meta, at);
                case FLIP_BYTES -> flip(meta, at, Math.min(size, at + 1 + rnd.nextInt(8)), rnd);
                default -> garbage(meta, at, Math.min(size, at + 1 + d.size() % 64), rnd, d.kind());
            };
        }

        /** Lowers a MESSAGE record's declared body length: the record then holds bytes it does not account for. */
        Applied shrinkBodyLength(Layout.Rec r, int by) throws IOException {
            long start = r.header + 4;
            int envLength = Integer.reverseBytes(readIntBe(r.file, start + 9));
            long at = start + 1 + 8 + 4 + envLength;
            long len;
            try (RandomAccessFile f = new RandomAccessFile(r.file.toFile(), "rw")) {
                f.seek(at);
                len = Long.reverseBytes(f.readLong());
                f.seek(at);
                f.writeLong(Long.reverseBytes(Math.max(0, len - by)));
            }
            return new Applied(Kind.GARBAGE_RANGE, r.file, at, at + 8, "body length " + len + "->" + (len - by));
        }

        // ------------------------------------------------------------ the oracle

        /** Messages the damage may have changed: records overlapping damage, and ids found in damaged bytes. */
        Set<Long> suspects(List<Applied> applied) throws IOException {
            Set<Long> s = new HashSet<>();
            for (Layout.Rec r : layout.records) {
                for (Applied a : applied) {
                    if (a.file.equals(r.file) && a.touches(r.header, r.end)) {
                        s.addAll(r.ids);
                    }
                }
            }
            for (Applied a : applied) {
                if (!a.file.getFileName().toString().endsWith(".cq4") || a.to == Long.MAX_VALUE) {
                    continue;
                }
                byte[] bytes = readBytes(a.file, Math.max(0, a.from - 7), a.to + 7);
                ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 8 <= bytes.length; i++) {
                    long v = b.getLong(i);
                    if (written.containsKey(v)) {
                        s.add(v);
                    }
                }
            }
            return s;
        }

        boolean messageRecordDamaged(long id, List<Applied> applied) {
            return layout.records.stream().filter(r -> r.type == RecordCodec.MESSAGE && r.ids.contains(id))
                    .anyMatch(r -> applied.stream().anyMatch(a -> a.file.equals(r.file) && a.touches(r.header,
                            r.end)));
        }

        /** The journal order of the first damaged byte: (file order, offset) packed; past the end if none in cq4. */
        long firstDamage(List<Applied> applied) {
            long first = Long.MAX_VALUE;
            for (Applied a : applied) {
                int order = layout.files.indexOf(a.file);
                if (order >= 0) {
                    first = Math.min(first, ((long) order << 40) | a.from);
                }
            }
            return first;
        }

        /** True when every record naming {@code id} ends before {@code first} (in journal order). */
        private boolean allBefore(long id, long first) {
            return layout.records.stream().filter(r -> r.ids.contains(id))
                    .allMatch(r -> (((long) r.fileOrder << 40) | r.end) <= first);
        }

        void assertNothingInvented(Journal j, List<Applied> applied) {
            for (QueuedMessage q : j.pending()) {
                assertThat(written).as("%s: recovered message %s was never written", applied, q.queueId())
                        .containsKey(q.queueId());
            }
        }

        /**
         * Clean messages whose records all precede {@code first} are recovered exactly; any clean message recovered
         * has its envelope and body; a clean message is final only if it was.
         */
        void assertCleanMessagesExact(Journal j, Set<Long> suspects, long first, List<Applied> applied)
                throws JournalException {
            for (Written w : written.values()) {
                if (suspects.contains(w.id)) {
                    continue;
                }
                var q = j.find(w.id);
                boolean mustBeExact = allBefore(w.id, first);
                if (q.isEmpty()) {
                    if (mustBeExact) {
                        assertThat(w.isFinal()).as("%s: pending message %s lost", applied, w.id).isTrue();
                    }
                    continue;
                }
                assertThat(w.isFinal() && mustBeExact).as("%s: final message %s came back", applied, w.id)
                        .isFalse();
                assertThat(q.get().envelope()).as("%s: envelope of %s", applied, w.id).isEqualTo(w.envelope);
                assertThat(TestMessages.readBody(j, w.id)).as("%s: body of %s", applied, w.id).isEqualTo(w.body);
                List<OutcomeKind> states = q.get().recipientStates();
                for (int i = 0; i < states.size(); i++) {
                    OutcomeKind k = states.get(i);
                    assertThat(k == null || w.seen.get(i).contains(k))
                            .as("%s: recipient %s of %s is %s, never recorded", applied, i, w.id, k).isTrue();
                }
                if (mustBeExact) {
                    assertThat(states).as("%s: states of %s", applied, w.id).containsExactly(w.states);
                    assertThat(q.get().attempts()).as("%s: attempts of %s", applied, w.id).isEqualTo(w.attempts);
                }
            }
        }

        /** New mail is accepted, readable, and (with what was recovered) survives a close and reopen. */
        void assertAcceptsAndKeepsNewMail(ChronicleJournal j, List<Applied> applied) throws Exception {
            List<Long> fresh = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try {
                    fresh.add(commit(j, 1 + i, 200 + 300 * i));
                } catch (JournalException e) {
                    fail(applied + ": new mail refused after recovery: " + e, e);
                }
            }
            for (long id : fresh) {
                assertThat(TestMessages.readBody(j, id)).as("%s", applied).isEqualTo(written.get(id).body);
            }
            recovered = j.pending().stream().map(QueuedMessage::queueId).toList();
            assertThat(recovered).as("%s", applied).containsAll(fresh);
        }

        /** Close, reopen: the same pending messages, same bodies. */
        void assertReopenKeepsEverything(List<Applied> applied) throws Exception {
            Opened o = reopen(applied);
            assertThat(o.failure).as("%s: second reopen failed", applied).isNull();
            Set<Long> suspects = suspects(applied);
            try (ChronicleJournal j = o.journal) {
                assertThat(j.pending()).extracting(QueuedMessage::queueId).as("%s: after a second restart", applied)
                        .containsExactlyInAnyOrderElementsOf(recovered);
                for (long id : recovered) {
                    Written w = written.get(id);
                    if (w != null && !suspects.contains(id)) {
                        assertThat(TestMessages.readBody(j, id)).as("%s: body of %s", applied, id).isEqualTo(w.body);
                    }
                }
            }
        }

        /** Commits once more; a failure must be the documented {@link JournalException}. */
        void tryNewMail(ChronicleJournal j, List<Applied> applied) {
            try {
                commit(j, 1, 300);
            } catch (JournalException e) {
                assertThat(e.getMessage()).as("%s", applied).isNotBlank();
            } catch (RuntimeException e) {
                fail(applied + ": commit after recovery threw " + e, e);
            }
        }

        Opened reopen(List<Applied> applied) {
            return reopen(OPEN_BOUND, applied);
        }

        /** Opens on a daemon thread and gives up after {@code bound}: a hang fails the try instead of the build. */
        Opened reopen(Duration bound, List<Applied> applied) {
            FutureTask<ChronicleJournal> task = new FutureTask<>(() -> ChronicleJournal.open(dir, SETTINGS, clock));
            Thread t = Thread.ofPlatform().daemon(true).name("damaged-journal-open").start(task);
            try {
                return new Opened(task.get(bound.toMillis(), TimeUnit.MILLISECONDS), null);
            } catch (TimeoutException e) {
                t.interrupt();
                return fail(applied + ": open did not return within " + bound + " (thread stuck in "
                        + Arrays.stream(t.getStackTrace()).limit(8).toList() + ")");
            } catch (ExecutionException e) {
                return new Opened(null, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() throws IOException {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }

        private static int readInt(Path file, long at) throws IOException {
            return Integer.reverseBytes(readIntBe(file, at));
        }

        private static int readIntBe(Path file, long at) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                f.seek(at);
                return f.readInt();
            }
        }

        private static void writeInt(Path file, long at, int v) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.seek(at);
                f.writeInt(Integer.reverseBytes(v));
            }
        }

        private static byte[] readBytes(Path file, long from, long to) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                long end = Math.min(to, f.length());
                byte[] b = new byte[(int) Math.max(0, end - from)];
                f.seek(from);
                f.readFully(b);
                return b;
            }
        }
    }
}

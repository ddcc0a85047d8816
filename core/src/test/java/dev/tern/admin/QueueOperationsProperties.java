package dev.tern.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tern.buffer.BufferPool;
import dev.tern.config.DeliverySettings;
import dev.tern.config.JournalSettings;
import dev.tern.config.RelayConfig;
import dev.tern.delivery.DeliveryEngine;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.Durability;
import dev.tern.journal.JournalException;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.QueueId;
import dev.tern.testing.ForwardingJournal;
import dev.tern.testing.TestCommits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@code tern queue list | show ID | stats | flush | delete ID} on a running relay, against a model of the queue: a
 * real {@link ChronicleJournal} (durability OS) and a real {@link DeliveryEngine} delivering to a {@link QueueHop}
 * whose RCPT replies are scripted per recipient (2xx delivered, 4xx deferred with a retry delay of
 * {@value #RETRY_MILLIS} ms, 5xx bounced; NOTIFY=NEVER, so no DSN joins the queue), with the {@link AdminServer} on
 * top. Generated programs submit messages and interleave list, show, delete (a pending message, one whose delivery is
 * in flight at the next hop, a final one, an unknown id), flush, stats, healing a deferred recipient and pauses with
 * the engine's own deliveries, and restart journal, engine and socket once in the middle.
 *
 * <p>What the code promises for a delete that races a delivery ({@code MessageState.settle}, {@code
 * DeliveryEngine.decide}): the delete journals DELETED for every recipient not final yet and returns without waiting;
 * an attempt already under way may still reach the next hop, but its outcome for a deleted recipient is dropped, it
 * schedules no retry, and no new transaction for the message starts. Checked exactly: at most that one transaction,
 * and no recipient ever gets two final outcomes.
 *
 * <p>The test reads the journal directly only to wait for the engine to settle (never to decide a check the socket
 * answers) and records every outcome the engine journals. jqwik prints the seed of a failure.
 */
class QueueOperationsProperties {
    static final long RETRY_MILLIS = 900;
    static final String DOMAIN = "hop.test";
    /** Every admin request is answered within this. */
    static final Duration ANSWER_BOUND = Duration.ofSeconds(2);
    /** How long the engine may take to settle what the model expects (a healed recipient waits for its retry). */
    static final long SETTLE_MILLIS = RETRY_MILLIS + 3000;
    /** After a delete's answer, a transaction already under way may still begin at the next hop within this. */
    static final long IN_FLIGHT_GRACE_MILLIS = 100;
    /** How long a flush check watches the next hop; well under the retry delay. */
    static final long FLUSH_WINDOW_MILLIS = 400;
    static final String TEMP_REPLY = "451 4.2.0 mailbox busy, try later";
    static final String PERM_REPLY = "550 5.1.1 no such user";

    // ------------------------------------------------------------------------------------------------ properties

    @Property(tries = 10, edgeCases = EdgeCasesMode.NONE)
    void queueOperationsFollowTheModel(@ForAll("programs") List<Op> program) throws Exception {
        try (Run run = new Run()) {
            run.play(program);
        }
    }

    /**
     * {@code list} names a queued message's open recipients only, as {@code mailq} does: one delivered or bounced is
     * no longer queued ({@code QueueFormat.list} once printed every envelope recipient whatever its state).
     */
    @Example
    void listShowsOnlyTheOpenRecipients() throws Exception {
        try (Run run = new Run()) {
            run.play(List.of(new Submit(List.of(Mode.PERM, Mode.OK, Mode.TEMP)), new ListQueue()));
        }
    }

    /**
     * After the last queued message is deleted, stats' per-destination {@code queued} (DestinationStats: "recipient
     * groups waiting") is 0 like the journal's count, though the deleted message's retry job stays in the delay queue
     * until it comes due and is dropped ({@code DeliveryEngine.stats} once counted it).
     */
    @Example
    void statsForgetADeletedMessage() throws Exception {
        try (Run run = new Run()) {
            run.play(List.of(new Submit(List.of(Mode.TEMP)), new Delete(Target.PENDING, 0, List.of()), new Stats()));
        }
    }

    // ------------------------------------------------------------------------------------------------ programs

    enum Mode { OK, TEMP, PERM }

    enum Target { PENDING, FINAL, UNKNOWN, IN_FLIGHT }

    sealed interface Op {
    }

    record Submit(List<Mode> modes) implements Op {
    }

    record ListQueue() implements Op {
    }

    record Show(Target target, int pick) implements Op {
    }

    record Delete(Target target, int pick, List<Mode> modesIfNew) implements Op {
    }

    record Flush() implements Op {
    }

    record Heal(int pick) implements Op {
    }

    record Stats() implements Op {
    }

    record Pause(int millis) implements Op {
    }

    record Restart() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> programs() {
        Arbitrary<Mode> mode = Arbitraries.frequency(Tuple.of(5, Mode.OK), Tuple.of(4, Mode.TEMP),
                Tuple.of(2, Mode.PERM));
        Arbitrary<List<Mode>> modes = mode.list().ofMinSize(1).ofMaxSize(3);
        Arbitrary<Op> submit = modes.map(Submit::new);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        Arbitrary<Op> show = Combinators.combine(Arbitraries.of(Target.PENDING, Target.FINAL, Target.UNKNOWN), pick)
                .as(Show::new);
        Arbitrary<Op> delete = Combinators.combine(Arbitraries.frequency(Tuple.of(3, Target.PENDING),
                Tuple.of(2, Target.FINAL), Tuple.of(1, Target.UNKNOWN), Tuple.of(2, Target.IN_FLIGHT)), pick, modes)
                .as(Delete::new);
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                Tuple.of(4, submit),
                Tuple.of(2, Arbitraries.just(new ListQueue())),
                Tuple.of(2, show),
                Tuple.of(3, delete),
                Tuple.of(2, Arbitraries.just(new Flush())),
                Tuple.of(1, pick.map(Heal::new)),
                Tuple.of(1, Arbitraries.just(new Stats())),
                Tuple.of(1, Arbitraries.integers().between(20, 300).map(Pause::new)));
        return Combinators.combine(submit.list().ofSize(2), op.list().ofMinSize(6).ofMaxSize(12)).as((first, rest) -> {
            List<Op> all = new ArrayList<>(first);
            all.addAll(rest);
            all.add(all.size() / 2, new Restart());
            return all;
        });
    }

    // ------------------------------------------------------------------------------------------------ the model

    /** One submitted message as the model sees it. */
    static final class Msg {
        final int seq;
        final long id;
        final String sender;
        final List<String> rcpts = new ArrayList<>();
        final List<Mode> modes;
        boolean healed;
        boolean deleted;
        /** When the delete's answer arrived (epoch millis); 0 while not deleted. */
        long deleteAnsweredMillis;

        Msg(int seq, long id, List<Mode> modes) {
            this.seq = seq;
            this.id = id;
            this.modes = List.copyOf(modes);
            this.sender = "s" + seq + "@sender.test";
            for (int i = 0; i < modes.size(); i++) {
                rcpts.add("m" + seq + "r" + i + "@" + DOMAIN);
            }
        }

        String idText() {
            return QueueId.format(id);
        }

        /** Whether, once the engine settles, the message is still queued: a 4xx recipient not healed, not deleted. */
        boolean staysQueued() {
            return !deleted && !healed && modes.contains(Mode.TEMP);
        }

        /** Each recipient's state once settled, for a message that stays queued. */
        OutcomeKind settledState(int i) {
            return switch (modes.get(i)) {
                case OK -> OutcomeKind.DELIVERED;
                case PERM -> OutcomeKind.BOUNCED;
                case TEMP -> healed ? OutcomeKind.DELIVERED : OutcomeKind.DEFERRED;
            };
        }

        List<String> openRecipients() {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < rcpts.size(); i++) {
                if (staysQueued() && modes.get(i) == Mode.TEMP) {
                    out.add(rcpts.get(i));
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "#" + seq + " " + idText() + " " + modes + (healed ? " healed" : "") + (deleted ? " deleted" : "");
        }
    }

    /** An outcome as the engine journaled it, with when {@code record} was called. */
    record Recorded(Outcome outcome, long atMillis, int epoch) {
    }

    /** The real journal, recording every outcome handed to it (the engine's and the delete's). */
    static final class RecordingJournal extends ForwardingJournal {
        final ChronicleJournal real;
        final List<Recorded> log;
        final int epoch;

        RecordingJournal(ChronicleJournal real, List<Recorded> log, int epoch) {
            super(real);
            this.real = real;
            this.log = log;
            this.epoch = epoch;
        }

        @Override
        public void record(List<Outcome> outcomes) throws JournalException {
            long now = System.currentTimeMillis();
            real.record(outcomes);
            for (Outcome o : outcomes) {
                log.add(new Recorded(o, now, epoch));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ one run

    /** One relay (journal, engine, admin socket) and the model, driven by one program. */
    static final class Run implements AutoCloseable {
        final Path dir;
        final QueueHop hop;
        final BufferPool pool = new BufferPool(1024, 8, 1024);
        final List<Recorded> outcomes = new CopyOnWriteArrayList<>();
        final List<Msg> msgs = new ArrayList<>();
        final List<String> trace = new ArrayList<>();
        /** When each flush was sent (epoch millis). */
        final List<Long> flushes = new CopyOnWriteArrayList<>();
        RecordingJournal journal;
        DeliveryEngine engine;
        AdminServer admin;
        int epoch;

        Run() throws Exception {
            dir = Files.createTempDirectory("tern-qops");
            hop = new QueueHop();
            open();
        }

        private void open() throws Exception {
            epoch++;
            journal = new RecordingJournal(ChronicleJournal.open(dir, JournalSettings.defaults()
                    .withDurability(Durability.OS)), outcomes, epoch);
            engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(DeliverySettings.defaults()
                    .withRoutes(Map.of(DOMAIN, List.of(hop.hostPort())))
                    .withRetries(List.of(Duration.ofMillis(RETRY_MILLIS)), Duration.ofHours(1))
                    .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(5))
                    // no destination back-off: a deferred message must not hold back the others (flush lifts it
                    // anyway, but the model would have to predict it)
                    .withBackoff(1_000_000, Duration.ofSeconds(1))), journal);
            admin = AdminServer.start(dir, journal, engine);
            assertThat(admin).as("admin socket bound").isNotNull();
        }

        /** Closes in the relay's order (Tern.close): socket, delivery, journal. */
        private void shut() throws IOException {
            if (admin != null) {
                admin.close();
                admin = null;
            }
            if (engine != null) {
                engine.close();
                engine = null;
            }
            if (journal != null) {
                journal.close();
                journal = null;
            }
        }

        @Override
        public void close() throws IOException {
            try {
                shut();
            } finally {
                hop.close();
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }

        void play(List<Op> program) throws Exception {
            try {
                for (Op op : program) {
                    trace.add(op.toString());
                    switch (op) {
                        case Submit s -> submit(s.modes());
                        case ListQueue l -> list();
                        case Show s -> show(s);
                        case Delete d -> delete(d);
                        case Flush f -> flush();
                        case Heal h -> heal(h.pick());
                        case Stats s -> stats();
                        case Pause p -> Thread.sleep(p.millis());
                        case Restart r -> restart();
                    }
                }
                finish();
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + dump(), e);
            }
        }

        private String dump() {
            StringBuilder sb = new StringBuilder("program run:\n");
            trace.forEach(t -> sb.append("  ").append(t).append('\n'));
            sb.append("model:\n");
            msgs.forEach(m -> sb.append("  ").append(m).append(' ').append(m.rcpts).append('\n'));
            sb.append("next hop transactions:\n");
            hop.txns.forEach(t -> sb.append("  ").append(t).append('\n'));
            sb.append("journaled outcomes:\n");
            outcomes.forEach(r -> sb.append("  ").append(QueueId.format(r.outcome().queueId())).append(" r")
                    .append(r.outcome().recipientIndex()).append(' ').append(r.outcome().kind()).append(" @")
                    .append(r.atMillis()).append(" epoch ").append(r.epoch()).append('\n'));
            return sb.toString();
        }

        // -------------------------------------------------------------------------------------------- operations

        private Msg submit(List<Mode> modes) throws Exception {
            Msg m = new Msg(msgs.size(), QueueId.next(), modes);
            for (int i = 0; i < modes.size(); i++) {
                switch (modes.get(i)) {
                    case TEMP -> hop.rcptReplies.put(m.rcpts.get(i), TEMP_REPLY);
                    case PERM -> hop.rcptReplies.put(m.rcpts.get(i), PERM_REPLY);
                    case OK -> hop.rcptReplies.remove(m.rcpts.get(i));
                }
            }
            commit(m);
            msgs.add(m);
            trace.add("  -> " + m);
            return m;
        }

        private void commit(Msg m) throws JournalException {
            Envelope env = new Envelope();
            env.begin(m.id, System.currentTimeMillis(), Envelope.utf8("127.0.0.1"), Envelope.utf8("client.test"));
            ByteBuffer s = ByteBuffer.wrap(Envelope.utf8(m.sender));
            env.sender(s, 0, s.limit());
            String content = "Subject: m" + m.seq + "\r\n\r\nhello\r\n";
            ByteBuffer none = ByteBuffer.allocate(0);
            env.mailParameters(content.length(), Envelope.BODY_UNSPECIFIED, false, Envelope.RET_UNSPECIFIED, none, 0,
                    0);
            for (String r : m.rcpts) {
                ByteBuffer b = ByteBuffer.wrap(Envelope.utf8(r));
                env.addRecipient(b, 0, b.limit(), Envelope.NOTIFY_NEVER, none, 0, 0);
            }
            TestCommits.commit(journal, env, content, pool);
        }

        private void list() throws Exception {
            // Right away, with deliveries under way: nothing invented, nothing certain missing.
            Map<String, String[]> rows = listRows(ask("list"));
            for (String id : rows.keySet()) {
                Msg m = byId(id);
                assertThat(m).as("list shows %s, never submitted", id).isNotNull();
                assertThat(m.deleted).as("list shows deleted %s", m).isFalse();
            }
            for (Msg m : msgs) {
                if (m.staysQueued()) {
                    assertThat(rows).as("list must show %s", m).containsKey(m.idText());
                }
            }
            // Once the engine settled: exactly the model's queue.
            settle();
            checkListExact();
        }

        private void checkListExact() throws Exception {
            Map<String, String[]> rows = listRows(ask("list"));
            List<String> expected = msgs.stream().filter(Msg::staysQueued).sorted(Comparator.comparingLong(m -> m.id))
                    .map(Msg::idText).toList();
            assertThat(List.copyOf(rows.keySet())).as("list: the queued messages, oldest first")
                    .containsExactlyElementsOf(expected);
            for (Msg m : msgs) {
                String[] w = rows.get(m.idText());
                if (w == null) {
                    continue;
                }
                assertThat(w[3]).as("list state of %s", m).isEqualTo("deferred");
                assertThat(w[4]).as("list sender of %s", m).isEqualTo(m.sender);
                List<String> shown = w.length > 5 ? List.of(w[5].split(",")) : List.of();
                assertThat(shown).as("list recipients of %s: only its open ones", m)
                        .containsExactlyElementsOf(m.openRecipients());
            }
        }

        private void show(Show s) throws Exception {
            settle();
            Msg m = pick(s.target(), s.pick());
            if (m == null) {
                String unknown = QueueId.format(QueueId.next());
                assertThat(ask("show " + unknown)).as("show of an unknown id")
                        .containsExactly("ERR no queued message " + unknown);
                return;
            }
            if (!m.staysQueued()) {
                assertThat(ask("show " + m.idText())).as("show of final %s", m)
                        .containsExactly("ERR no queued message " + m.idText());
                return;
            }
            int before = hop.txnsOf(m.sender).size();
            List<String> got = ask("show " + m.idText());
            int after = hop.txnsOf(m.sender).size();
            assertThat(got.getLast()).as("show %s", m).isEqualTo("OK");
            assertThat(got).as("show %s", m).contains("id:        " + m.idText(), "headers:", "  Subject: m" + m.seq);
            assertThat(got).as("show %s sender", m).anyMatch(l -> l.startsWith("sender:    " + m.sender));
            List<String> rcptLines = got.stream().filter(l -> l.startsWith("recipient: ")).toList();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < m.rcpts.size(); i++) {
                expected.add("recipient: " + m.rcpts.get(i) + " " + m.settledState(i).name().toLowerCase(Locale.ROOT));
            }
            assertThat(rcptLines).as("show %s recipients", m).containsExactlyElementsOf(expected);
            String state = got.stream().filter(l -> l.startsWith("state:")).findFirst().orElseThrow();
            Matcher a = Pattern.compile("state: +deferred, attempts (\\d+)").matcher(state);
            assertThat(a.lookingAt()).as("show %s state line '%s'", m, state).isTrue();
            int attempts = Integer.parseInt(a.group(1));
            // Every attempt is one transaction at the next hop; one may be under way while we ask.
            assertThat(attempts).as("show %s attempts against the next hop's transactions %d..%d", m, before, after)
                    .isBetween(before - 1, after);
        }

        private void delete(Delete d) throws Exception {
            if (d.target() == Target.IN_FLIGHT) {
                deleteInFlight(d.modesIfNew());
                return;
            }
            settle();
            Msg m = pick(d.target(), d.pick());
            int recordedBefore = outcomes.size();
            if (m == null || !m.staysQueued()) {
                String id = m == null ? QueueId.format(QueueId.next()) : m.idText();
                List<String> pendingBefore = ids(journal.pending());
                assertThat(ask("delete " + id)).as("delete of %s", m == null ? "an unknown id" : "final " + m)
                        .containsExactly("ERR no queued message " + id);
                assertThat(outcomes.subList(recordedBefore, outcomes.size()).stream()
                        .filter(r -> r.outcome().kind() == OutcomeKind.DELETED).toList())
                        .as("a refused delete journals nothing").isEmpty();
                assertThat(ids(journal.pending())).as("a refused delete changes nothing")
                        .containsExactlyElementsOf(pendingBefore);
                return;
            }
            long sent = System.currentTimeMillis();
            assertThat(ask("delete " + m.idText())).as("delete of pending %s", m)
                    .containsExactly("deleted " + m.idText(), "OK");
            m.deleted = true;
            m.deleteAnsweredMillis = System.currentTimeMillis();
            Set<Integer> open = new HashSet<>();
            for (int i = 0; i < m.modes.size(); i++) {
                if (m.modes.get(i) == Mode.TEMP) {
                    open.add(i);
                }
            }
            assertThat(deletedIndexes(m, sent)).as("DELETED journaled for the open recipients of %s", m)
                    .isEqualTo(open);
            checkGone(m);
        }

        /** Deletes a message while the next hop holds its transaction (content sent, reply not yet). */
        private void deleteInFlight(List<Mode> modes) throws Exception {
            List<Mode> withOk = new ArrayList<>(modes);
            if (!withOk.contains(Mode.OK)) {
                withOk.set(0, Mode.OK); // the content is only sent to an accepted recipient
            }
            int seq = msgs.size();
            hop.hold("s" + seq + "@sender.test");
            Msg m;
            try {
                m = submit(withOk);
                assertThat(hop.awaitHolding(3000)).as("%s reaches the next hop", m).isTrue();
                long sent = System.currentTimeMillis();
                assertThat(ask("delete " + m.idText())).as("delete of %s while its delivery is in flight", m)
                        .containsExactly("deleted " + m.idText(), "OK");
                m.deleted = true;
                m.deleteAnsweredMillis = System.currentTimeMillis();
                Set<Integer> all = new HashSet<>();
                for (int i = 0; i < m.rcpts.size(); i++) {
                    all.add(i);
                }
                assertThat(deletedIndexes(m, sent)).as("DELETED journaled for every recipient of %s", m)
                        .isEqualTo(all);
            } finally {
                hop.release();
            }
            // The attempt under way finishes at the next hop (the code's promise allows it); its outcome is dropped.
            long end = System.currentTimeMillis() + 3000;
            while (System.currentTimeMillis() < end && hop.txnsOf(m.sender).stream().noneMatch(t -> t.delivered)) {
                Thread.sleep(5);
            }
            Thread.sleep(50);
            for (Recorded r : outcomes) {
                if (r.outcome().queueId() == m.id) {
                    assertThat(r.outcome().kind()).as("the only outcome of %s is its deletion: %s", m, r)
                            .isEqualTo(OutcomeKind.DELETED);
                }
            }
            checkGone(m);
        }

        /** The recipient indexes journaled DELETED for {@code m} since {@code sinceMillis}. */
        private Set<Integer> deletedIndexes(Msg m, long sinceMillis) {
            Set<Integer> out = new HashSet<>();
            for (Recorded r : outcomes) {
                if (r.outcome().queueId() == m.id && r.outcome().kind() == OutcomeKind.DELETED) {
                    assertThat(r.atMillis()).as("DELETED of %s journaled by the delete", m)
                            .isGreaterThanOrEqualTo(sinceMillis);
                    assertThat(out.add(r.outcome().recipientIndex())).as("one DELETED per recipient of %s", m)
                            .isTrue();
                }
            }
            return out;
        }

        private void checkGone(Msg m) throws Exception {
            assertThat(ask("show " + m.idText())).as("show after deleting %s", m)
                    .containsExactly("ERR no queued message " + m.idText());
            assertThat(listRows(ask("list"))).as("list after deleting %s", m).doesNotContainKey(m.idText());
            assertThat(ask("delete " + m.idText())).as("deleting %s again", m)
                    .containsExactly("ERR no queued message " + m.idText());
        }

        private void flush() throws Exception {
            settle();
            long start = System.currentTimeMillis();
            List<Msg> waiting = new ArrayList<>();
            // Transactions already made: the last attempt may have started in the very millisecond of 'start'.
            Map<Msg, Integer> earlier = new HashMap<>();
            for (Msg m : msgs) {
                Optional<QueuedMessage> q = journal.find(m.id);
                if (q.isPresent() && q.get().nextAttemptMillis() > start + FLUSH_WINDOW_MILLIS + 200) {
                    waiting.add(m);
                    earlier.put(m, hop.txnsOf(m.sender).size());
                }
            }
            flushes.add(System.currentTimeMillis());
            assertThat(ask("flush")).as("flush").containsExactly("flushed: deferred mail is being retried now", "OK");
            Thread.sleep(FLUSH_WINDOW_MILLIS);
            for (Msg m : waiting) {
                List<QueueHop.Txn> all = hop.txnsOf(m.sender);
                List<QueueHop.Txn> retried = all.subList(earlier.get(m), all.size()).stream()
                        .filter(t -> t.startMillis <= start + FLUSH_WINDOW_MILLIS).toList();
                assertThat(retried).as("%s, deferred, retried once right after the flush (not at its retry time)", m)
                        .hasSize(1);
            }
            trace.add("  -> flushed " + waiting);
        }

        private void heal(int pick) {
            List<Msg> healable = msgs.stream().filter(Msg::staysQueued).toList();
            if (healable.isEmpty()) {
                return;
            }
            Msg m = healable.get(pick % healable.size());
            for (int i = 0; i < m.modes.size(); i++) {
                if (m.modes.get(i) == Mode.TEMP) {
                    hop.rcptReplies.remove(m.rcpts.get(i));
                }
            }
            m.healed = true;
            trace.add("  -> healed " + m);
        }

        private void stats() throws Exception {
            settle();
            List<String> got = ask("stats");
            assertThat(got.getLast()).isEqualTo("OK");
            long queued = msgs.stream().filter(Msg::staysQueued).count();
            assertThat(got.getFirst()).as("stats journal line").startsWith("journal: " + queued + " queued, ");
            Map<OutcomeKind, Long> counted = new HashMap<>();
            for (Recorded r : outcomes) {
                if (r.epoch() == epoch) {
                    counted.merge(r.outcome().kind(), 1L, Long::sum);
                }
            }
            Optional<String> line = got.stream().filter(l -> l.startsWith(DOMAIN + ": ")).findFirst();
            if (line.isEmpty()) {
                // A delete journals DELETED outcomes without a destination; every other outcome has one.
                assertThat(counted.keySet()).as("no destination in stats %s, yet outcomes", got)
                        .isSubsetOf(OutcomeKind.DELETED);
                assertThat(queued).as("no destination in stats %s, yet mail queued", got).isZero();
                return;
            }
            Map<String, Long> f = fields(line.get());
            assertThat(f.get("delivered")).as("stats delivered (%s)", line.get())
                    .isEqualTo(counted.getOrDefault(OutcomeKind.DELIVERED, 0L));
            assertThat(f.get("bounced")).as("stats bounced (%s)", line.get())
                    .isEqualTo(counted.getOrDefault(OutcomeKind.BOUNCED, 0L));
            // A retry may be under way while we ask: it defers each of its message's recipients at once.
            long deferred = counted.getOrDefault(OutcomeKind.DEFERRED, 0L);
            long inFlight = msgs.stream().filter(Msg::staysQueued).mapToLong(m -> m.rcpts.size()).max().orElse(1);
            assertThat(f.get("deferred")).as("stats deferred (%s)", line.get())
                    .isBetween(deferred - inFlight, deferred + inFlight);
            // One job per queued message (one domain): a retry under way is not waiting; a deleted one is not queued.
            assertThat(f.get("queued")).as("stats queued (%s) against the journal's %d", line.get(), queued)
                    .isBetween(Math.max(0, queued - 1), queued);
            assertThat(f.get("backoffUntilMillis")).as("no back-off").isZero();
        }

        private void restart() throws Exception {
            settle();
            admin.close();
            admin = null;
            engine.close();
            engine = null;
            // nothing delivers now: the journal's queue is still
            List<String> before = snapshot(journal.pending());
            journal.close();
            journal = null;
            open();
            assertThat(snapshot(journal.pending())).as("the queue after a restart: nothing lost, nothing invented")
                    .containsExactlyElementsOf(before);
            checkListExact();
            for (Msg m : msgs) {
                if (m.deleted) {
                    assertThat(ask("show " + m.idText())).as("deleted %s after a restart", m)
                            .containsExactly("ERR no queued message " + m.idText());
                }
            }
        }

        private void finish() throws Exception {
            settle();
            checkListExact();
            stats();
            Map<Long, Map<Integer, Integer>> finals = new HashMap<>();
            for (Recorded r : outcomes) {
                if (r.outcome().kind().isFinal()) {
                    finals.computeIfAbsent(r.outcome().queueId(), k -> new HashMap<>())
                            .merge(r.outcome().recipientIndex(), 1, Integer::sum);
                }
            }
            finals.forEach((id, byRcpt) -> byRcpt.forEach((i, n) -> assertThat(n)
                    .as("final outcomes of %s recipient %d", QueueId.format(id), i).isEqualTo(1)));
            Map<String, Integer> deliveries = new LinkedHashMap<>();
            for (QueueHop.Txn t : hop.txns) {
                if (t.delivered) {
                    t.accepted.forEach(a -> deliveries.merge(a, 1, Integer::sum));
                }
            }
            for (Msg m : msgs) {
                for (int i = 0; i < m.rcpts.size(); i++) {
                    int n = deliveries.getOrDefault(m.rcpts.get(i), 0);
                    String what = m + " recipient " + m.rcpts.get(i);
                    boolean reachable = m.modes.get(i) == Mode.OK || m.modes.get(i) == Mode.TEMP && m.healed;
                    if (m.deleted) {
                        assertThat(n).as("deliveries of deleted %s", what).isLessThanOrEqualTo(reachable ? 1 : 0);
                    } else {
                        assertThat(n).as("deliveries of %s", what).isEqualTo(reachable ? 1 : 0);
                    }
                }
                List<QueueHop.Txn> ts = hop.txnsOf(m.sender);
                for (int k = 1; k < ts.size(); k++) {
                    long a = ts.get(k - 1).startMillis;
                    long b = ts.get(k).startMillis;
                    boolean flushed = flushes.stream().anyMatch(x -> x >= a - 5 && x <= b + 5);
                    if (!flushed) {
                        assertThat(b - a).as("%s: attempt %d no earlier than the retry delay, without a flush", m,
                                k + 1).isGreaterThanOrEqualTo(RETRY_MILLIS - 100);
                    }
                }
                if (m.deleted) {
                    List<QueueHop.Txn> late = hop.txnsOf(m.sender).stream()
                            .filter(t -> t.startMillis > m.deleteAnsweredMillis).toList();
                    assertThat(late).as("transactions of %s begun after its delete was answered", m)
                            .allMatch(t -> t.startMillis <= m.deleteAnsweredMillis + IN_FLIGHT_GRACE_MILLIS)
                            .hasSizeLessThanOrEqualTo(1);
                }
            }
        }

        // -------------------------------------------------------------------------------------------- helpers

        /** Waits (bounded) until the journal holds what the model expects of every message once delivery settled. */
        private void settle() throws InterruptedException {
            long end = System.currentTimeMillis() + SETTLE_MILLIS;
            String why;
            while ((why = unsettled()) != null) {
                if (System.currentTimeMillis() > end) {
                    fail("the engine did not settle within " + SETTLE_MILLIS + " ms: " + why);
                }
                Thread.sleep(5);
            }
        }

        private String unsettled() {
            for (Msg m : msgs) {
                Optional<QueuedMessage> q = journal.find(m.id);
                if (!m.staysQueued()) {
                    if (q.isPresent()) {
                        return m + " still queued: " + q.get().recipientStates();
                    }
                    continue;
                }
                if (q.isEmpty()) {
                    return m + " no longer queued";
                }
                List<OutcomeKind> states = q.get().recipientStates();
                for (int i = 0; i < m.rcpts.size(); i++) {
                    OutcomeKind k = i < states.size() ? states.get(i) : null;
                    if (k != m.settledState(i)) {
                        return m + " recipient " + i + " is " + k + ", expected " + m.settledState(i);
                    }
                }
            }
            return null;
        }

        private Msg pick(Target t, int pick) {
            List<Msg> c = switch (t) {
                case PENDING -> msgs.stream().filter(Msg::staysQueued).toList();
                case FINAL -> msgs.stream().filter(m -> !m.staysQueued()).toList();
                default -> List.of();
            };
            return c.isEmpty() ? null : c.get(pick % c.size());
        }

        private Msg byId(String idText) {
            for (Msg m : msgs) {
                if (m.idText().equals(idText)) {
                    return m;
                }
            }
            return null;
        }

        /** One request over the socket; its answer must come within {@link #ANSWER_BOUND}, ending OK or ERR. */
        private List<String> ask(String request) throws Exception {
            CompletableFuture<Optional<List<String>>> f = CompletableFuture.supplyAsync(() -> {
                try {
                    return AdminServer.request(dir, request);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, r -> Thread.ofVirtual().start(r));
            Optional<List<String>> answer;
            try {
                answer = f.get(ANSWER_BOUND.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("'" + request + "' not answered within " + ANSWER_BOUND);
            }
            assertThat(answer).as("the admin socket answers '%s'", request).isPresent();
            List<String> lines = answer.get();
            trace.add("  " + request + " -> " + (lines.size() > 6 ? lines.subList(0, 3) + "... " + lines.getLast()
                    : lines));
            assertThat(lines).as("answer to '%s'", request).isNotEmpty();
            assertThat(lines.getLast()).as("last line of the answer to '%s'", request).matches("OK|ERR .+");
            return lines;
        }

        /** The rows of a list answer by id, each split into its columns; checks the frame. */
        private static Map<String, String[]> listRows(List<String> answer) {
            assertThat(answer.getLast()).isEqualTo("OK");
            assertThat(answer.getFirst()).startsWith("ID ");
            Map<String, String[]> rows = new LinkedHashMap<>();
            for (String l : answer.subList(1, answer.size() - 2)) {
                String[] w = l.trim().split("\\s+");
                rows.put(w[0], w);
            }
            assertThat(answer.get(answer.size() - 2)).isEqualTo(rows.size() + " message(s) queued");
            return rows;
        }

        private static Map<String, Long> fields(String line) {
            Map<String, Long> out = new HashMap<>();
            Matcher m = Pattern.compile("(\\w+)=(\\d+)").matcher(line);
            while (m.find()) {
                out.put(m.group(1), Long.parseLong(m.group(2)));
            }
            return out;
        }

        private static List<String> ids(List<QueuedMessage> q) {
            return q.stream().map(m -> QueueId.format(m.queueId())).toList();
        }

        private static List<String> snapshot(List<QueuedMessage> q) {
            return q.stream().map(m -> QueueId.format(m.queueId()) + " " + m.envelope().sender() + " "
                    + m.envelope().recipients().stream().map(EnvelopeRecord.Recipient::address).toList() + " "
                    + m.recipientStates() + " attempts " + m.attempts() + " next " + m.nextAttemptMillis() + " "
                    + m.bodyLength() + " " + m.lastDetail()).toList();
        }
    }
}

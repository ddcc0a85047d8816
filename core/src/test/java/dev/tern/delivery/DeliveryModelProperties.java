package dev.tern.delivery;

import static org.assertj.core.api.Assertions.fail;

import dev.tern.buffer.BufferPool;
import dev.tern.config.DeliverySettings;
import dev.tern.config.RelayConfig;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.QueueId;
import dev.tern.testing.TestCommits;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * The {@link DeliveryEngine} against an independent model of relay delivery, on random scenarios: one to three
 * messages of one to six recipients spread over two destinations (each its own scripted {@link TestSink}), senders
 * including the null reverse-path, per-recipient NOTIFY and ORCPT, RET and ENVID, and per attempt a script of what the
 * next hop answers (MAIL, each RCPT, the end of data: 2xx, 4xx, 5xx, 421, a disconnect in the middle of the content,
 * the connection lost after the end of data before its reply, a peer that stops answering), with PIPELINING, CHUNKING
 * and DSN on or off per next hop, a retry schedule of tens of milliseconds and a lifetime of a few hundred.
 *
 * <p>The model is written from RFC 5321 (4.2.5 and 3.3: which reply decides each recipient: a refused MAIL answers for
 * every recipient, a refused RCPT for its own, the reply to the end of data for every accepted one; 3.8: a 421 stands
 * for every reply still expected; 4.5.4.1: a 4xx is retried, the queue gives up after its lifetime; 6.1 and 6.2: a
 * failure is reported to the reverse-path, never to a null one, and a connection lost after the end of data may cause
 * a duplicate but never a loss), RFC 3461 (NOTIFY, RET, ORCPT, ENVID) and RFC 3464 (the report's fields). It takes
 * from the engine only what the environment decides: when each attempt happened (the journaled time, against which
 * expiry is judged). Every scripted reply carries a token naming its transaction, so each journaled outcome can be
 * traced to the reply the model says must decide it; an outcome without a token is a local stand-in (connection
 * problem) and must be temporary.
 *
 * <p>Tern's promises taken from its code and docs (not the RFCs): no DSN for delays; a lost connection defers every recipient without a final answer (so a message whose end of data reached the
 * peer before the connection broke is sent again: "at least once", {@code DeliveryEngine}'s javadoc); expiry bounces
 * with 4.4.7; originals under 50 kB come back whole unless RET=HDRS.
 */
class DeliveryModelProperties {
    static final long LIFETIME_MILLIS = 300;
    static final List<Long> SCHEDULE_MILLIS = List.of(20L, 40L);
    /** Longer than the command timeout (plus the sweeper's period): the engine gives up waiting first. */
    static final long STALL_MILLIS = 900;
    static final Duration COMMAND_TIMEOUT = Duration.ofMillis(500);
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String[] DOMAINS = {"one.test", "two.test"};

    // ------------------------------------------------------------------------------------------------ properties

    @Property(tries = 50, edgeCases = EdgeCasesMode.NONE)
    void outcomesAndReportsFollowTheModel(@ForAll("scenarios") Scenario s) throws Exception {
        Observed o = Run.play(s);
        List<String> problems = new ArrayList<>();
        new Model(s, o, problems).check();
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems) + "\n" + o.dump(s));
        }
    }

    /**
     * RFC 3461 5.2.1 and 5.2.2, RFC 3464 2.3.3: an MTA that relays a message by SMTP has not delivered it. To a next
     * hop that offers DSN it passes NOTIFY on and issues no success report itself (the next hop will); to one that does
     * not, it issues a "relayed" DSN for NOTIFY=SUCCESS recipients.
     */
    @Property(tries = 20, edgeCases = EdgeCasesMode.NONE)
    void successReportsOfARelayFollowRfc3461(@ForAll("successScenarios") Scenario s) throws Exception {
        Observed o = Run.play(s);
        List<String> problems = new ArrayList<>();
        new Model(s, o, problems).checkRelayedSuccessReports();
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems) + "\n" + o.dump(s));
        }
    }

    // ------------------------------------------------------------------------------------------------ scenarios

    enum Mail { OK, TEMP, PERM, CLOSE }

    enum Rcpt { OK, TEMP, PERM, CLOSE, STALL }

    enum Eod { OK, TEMP, PERM, CLOSE, DISCONNECT, LOST }

    /** What the next hop does in one transaction: MAIL, the RCPT of each recipient (by index), the end of data. */
    record Attempt(Mail mail, List<Rcpt> rcpts, Eod eod) {
        @Override
        public String toString() {
            return mail + " " + rcpts + " " + eod;
        }
    }

    record RcptSpec(int dest, int notifyFlags, boolean orcpt) {
    }

    /**
     * One message. {@code scripts.get(d)} are the next hop's answers to its transactions at destination d, in order;
     * after them every transaction is accepted, or (forever) every MAIL gets 451 until the message expires.
     */
    record MessageSpec(boolean nullSender, List<RcptSpec> rcpts, int ret, boolean envid, boolean aged, boolean forever,
                       List<List<Attempt>> scripts) {
    }

    record HopSpec(boolean pipelining, boolean chunking, boolean dsn) {
    }

    record Scenario(List<MessageSpec> messages, List<HopSpec> hops) {
        String sender(int m) {
            return messages.get(m).nullSender() ? "" : "s" + m + "@sender.test";
        }

        static String address(int m, int i, int dest) {
            return "m" + m + "r" + i + "@" + DOMAINS[dest];
        }
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        return scenarios(Arbitraries.frequency(Tuple.of(30, 0), Tuple.of(10, Envelope.NOTIFY_NEVER),
                Tuple.of(10, Envelope.NOTIFY_SUCCESS), Tuple.of(10, Envelope.NOTIFY_FAILURE),
                Tuple.of(5, Envelope.NOTIFY_DELAY), Tuple.of(10, Envelope.NOTIFY_SUCCESS | Envelope.NOTIFY_FAILURE),
                Tuple.of(10, Envelope.NOTIFY_FAILURE | Envelope.NOTIFY_DELAY),
                Tuple.of(5, Envelope.NOTIFY_SUCCESS | Envelope.NOTIFY_DELAY),
                Tuple.of(10, Envelope.NOTIFY_SUCCESS | Envelope.NOTIFY_FAILURE | Envelope.NOTIFY_DELAY)), 20);
    }

    @Provide
    Arbitrary<Scenario> successScenarios() {
        return scenarios(Arbitraries.just(Envelope.NOTIFY_SUCCESS), 0);
    }

    private static Arbitrary<Scenario> scenarios(Arbitrary<Integer> notify, int nullSenderPercent) {
        Arbitrary<Mail> mail = Arbitraries.frequency(Tuple.of(80, Mail.OK), Tuple.of(8, Mail.TEMP),
                Tuple.of(7, Mail.PERM), Tuple.of(5, Mail.CLOSE));
        Arbitrary<Rcpt> rcpt = Arbitraries.frequency(Tuple.of(600, Rcpt.OK), Tuple.of(150, Rcpt.TEMP),
                Tuple.of(150, Rcpt.PERM), Tuple.of(30, Rcpt.CLOSE), Tuple.of(15, Rcpt.STALL));
        Arbitrary<Eod> eod = Arbitraries.frequency(Tuple.of(60, Eod.OK), Tuple.of(10, Eod.TEMP),
                Tuple.of(10, Eod.PERM), Tuple.of(5, Eod.CLOSE), Tuple.of(8, Eod.DISCONNECT), Tuple.of(7, Eod.LOST));
        Arbitrary<Attempt> attempt = Combinators.combine(mail, rcpt.list().ofSize(6), eod).as(Attempt::new);
        Arbitrary<List<Attempt>> script = attempt.list().ofMinSize(0).ofMaxSize(3);
        Arbitrary<RcptSpec> rcptSpec = Combinators.combine(Arbitraries.integers().between(0, 1), notify,
                Arbitraries.of(true, false)).as(RcptSpec::new);
        Arbitrary<MessageSpec> message = Combinators.combine(
                Arbitraries.integers().between(1, 100).map(p -> p <= nullSenderPercent),
                rcptSpec.list().ofMinSize(1).ofMaxSize(6),
                Arbitraries.of(Envelope.RET_UNSPECIFIED, Envelope.RET_FULL, Envelope.RET_HDRS),
                Arbitraries.of(true, false),
                Arbitraries.integers().between(1, 100).map(p -> p <= 12),
                Arbitraries.integers().between(1, 100).map(p -> p <= 8),
                script.list().ofSize(2)).as(MessageSpec::new);
        Arbitrary<HopSpec> hop = Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false),
                Arbitraries.of(true, false)).as(HopSpec::new);
        return Combinators.combine(message.list().ofMinSize(1).ofMaxSize(3), hop.list().ofSize(2))
                .as((ms, hs) -> {
                    // Messages are told apart at the next hop by their sender: only the first may use <>.
                    List<MessageSpec> fixed = new ArrayList<>();
                    for (int i = 0; i < ms.size(); i++) {
                        MessageSpec m = ms.get(i);
                        fixed.add(i == 0 || !m.nullSender() ? m : new MessageSpec(false, m.rcpts(), m.ret(),
                                m.envid(), m.aged(), m.forever(), m.scripts()));
                    }
                    return new Scenario(fixed, hs);
                });
    }

    // ------------------------------------------------------------------------------------------------ the next hop

    /** One transaction as the next hop saw it; replies are the exact lines it sent. */
    static final class Txn {
        final int seq;
        final long conn;
        final int m;
        final int dest;
        final int k;
        final String mail;
        /** RCPT replies by recipient index, in arrival order; null: the hop stalled on it (never answered). */
        final Map<Integer, String> rcpts = new LinkedHashMap<>();
        /** The 421 that closed the connection at a RCPT, if any. */
        volatile String closing;
        /** The reply to the end of data; null when none was sent. */
        volatile String eod;
        /** The hop took the content (answered 2xx, or dropped the connection after reading all of it). */
        volatile boolean contentTaken;
        volatile boolean lost;
        /** The hop ended the connection without the client's QUIT (421, disconnect, stall, lost reply). */
        volatile boolean abrupt;

        Txn(int seq, long conn, int m, int dest, int k, String mail) {
            this.seq = seq;
            this.conn = conn;
            this.m = m;
            this.dest = dest;
            this.k = k;
            this.mail = mail;
        }

        boolean mailOk() {
            return mail.startsWith("2");
        }

        @Override
        public String toString() {
            return "T" + m + "." + dest + "." + k + "(conn " + conn + ") MAIL " + mail + " RCPT " + rcpts
                    + (closing != null ? " closed " + closing : "") + " EOD " + (lost ? "<lost after content>" : eod)
                    + (abrupt ? " abrupt" : "");
        }
    }

    /** Scripts one {@link TestSink} (one destination) and logs every transaction it sees. */
    static final class ScriptedHop {
        final int dest;
        final Scenario s;
        final TestSink sink;
        final List<Txn> log = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Map<Long, Txn> current = new ConcurrentHashMap<>();
        private final Map<Integer, Integer> counts = new ConcurrentHashMap<>();

        ScriptedHop(int dest, Scenario s) throws Exception {
            this.dest = dest;
            this.s = s;
            this.sink = TestSink.start();
            HopSpec h = s.hops().get(dest);
            sink.pipelining = h.pipelining();
            sink.chunking = h.chunking();
            sink.dsn = h.dsn();
            sink.mailReply = this::mail;
            sink.rcptReply = this::rcpt;
            sink.dataReply = this::data;
        }

        private static String token(Txn t, String part) {
            return "[T" + t.m + "." + t.dest + "." + t.k + "." + part + "]";
        }

        private Attempt script(int m, int k) {
            List<Attempt> script = s.messages().get(m).scripts().get(dest);
            if (k <= script.size()) {
                return script.get(k - 1);
            }
            Mail mail = s.messages().get(m).forever() ? Mail.TEMP : Mail.OK;
            return new Attempt(mail, List.of(Rcpt.OK, Rcpt.OK, Rcpt.OK, Rcpt.OK, Rcpt.OK, Rcpt.OK), Eod.OK);
        }

        private String mail(String arg) {
            sink.disconnectsInData.set(0);
            String sender = arg.substring(arg.indexOf('<') + 1, arg.indexOf('>'));
            int m = -1;
            for (int i = 0; i < s.messages().size(); i++) {
                if (s.sender(i).equals(sender)) {
                    m = i;
                }
            }
            if (m < 0) {
                return "550 5.7.1 unknown sender"; // not a message of the scenario: the model will say so
            }
            int k = counts.merge(m, 1, Integer::sum);
            long conn = Thread.currentThread().threadId();
            String tok = "[T" + m + "." + dest + "." + k + ".mail]";
            String r = switch (script(m, k).mail()) {
                case OK -> "250 2.1.0 ok";
                case TEMP -> "451 4.3.0 " + tok + " try later";
                case PERM -> "550 5.7.1 " + tok + " sender refused";
                case CLOSE -> "421 4.3.2 " + tok + " closing";
            };
            Txn txn;
            synchronized (log) {
                txn = new Txn(log.size(), conn, m, dest, k, r);
                txn.abrupt = r.startsWith("421");
                log.add(txn);
            }
            current.put(conn, txn);
            return r;
        }

        private String rcpt(String address) {
            Txn t = current.get(Thread.currentThread().threadId());
            int i = Integer.parseInt(address.substring(address.indexOf('r') + 1, address.indexOf('@')));
            if (t == null || !address.startsWith("m" + t.m + "r")) {
                return "550 5.1.1 not in this transaction";
            }
            Rcpt what = i < 6 ? script(t.m, t.k).rcpts().get(i) : Rcpt.OK;
            String r = switch (what) {
                case OK -> "250 2.1.5 ok";
                case TEMP -> "450 4.2.1 " + token(t, "r" + i) + " mailbox busy";
                case PERM -> "550 5.1.1 " + token(t, "r" + i) + " no such user";
                case CLOSE -> "421 4.3.2 " + token(t, "r" + i) + " closing";
                case STALL -> null;
            };
            t.rcpts.put(i, r);
            if (r == null) {
                t.abrupt = true;
                sink.disconnectsInData.set(0);
                try {
                    Thread.sleep(STALL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "250 2.1.5 too late"; // the client has given up: this write fails and the hop hangs up
            }
            if (r.startsWith("421")) {
                t.closing = r;
                t.abrupt = true;
                sink.disconnectsInData.set(0);
            } else if (r.startsWith("2") && script(t.m, t.k).eod() == Eod.DISCONNECT) {
                // TestSink cuts the next DATA/BDAT with accepted recipients: this transaction's (one connection).
                sink.disconnectsInData.set(1);
                t.abrupt = true;
            }
            return r;
        }

        private String data(TestSink.Received r) {
            Txn t = current.get(Thread.currentThread().threadId());
            String reply = switch (script(t.m, t.k).eod()) {
                case OK -> "250 2.0.0 " + token(t, "eod") + " queued";
                case TEMP -> "451 4.3.0 " + token(t, "eod") + " try later";
                case PERM -> "554 5.6.0 " + token(t, "eod") + " content refused";
                case CLOSE -> "421 4.3.2 " + token(t, "eod") + " closing";
                case DISCONNECT -> "250 2.0.0 " + token(t, "eod") + " should not happen";
                case LOST -> null;
            };
            if (reply == null) {
                // RFC 5321 6.1: the content arrived, the reply never leaves (the hop's conversation ends here).
                t.contentTaken = true;
                t.lost = true;
                t.abrupt = true;
                throw new UncheckedIOException(new java.io.IOException(
                        "scripted: connection lost after the end of data, before its reply (expected noise)"));
            }
            t.eod = reply;
            t.contentTaken = reply.startsWith("2");
            t.abrupt |= reply.startsWith("421");
            return reply;
        }
    }

    // ------------------------------------------------------------------------------------------------ one run

    /** What one run produced. */
    record Observed(long startMillis, List<Long> ids, List<Long> receivedAt, Map<Long, List<Outcome>> outcomes,
                    List<Dsn> dsns, List<List<Txn>> logs, List<List<String>> commands, boolean allFinal,
                    int buffersLeaked) {
        String dump(Scenario s) {
            StringBuilder sb = new StringBuilder("scenario:\n");
            for (int m = 0; m < s.messages().size(); m++) {
                MessageSpec ms = s.messages().get(m);
                sb.append("  m").append(m).append(" from <").append(s.sender(m)).append("> ret=").append(ms.ret())
                        .append(ms.envid() ? " envid" : "").append(ms.aged() ? " aged" : "")
                        .append(ms.forever() ? " forever-4xx" : "").append('\n');
                for (int i = 0; i < ms.rcpts().size(); i++) {
                    RcptSpec r = ms.rcpts().get(i);
                    sb.append("    r").append(i).append(' ').append(Scenario.address(m, i, r.dest()))
                            .append(" notify=").append(r.notifyFlags()).append(r.orcpt() ? " orcpt" : "").append('\n');
                }
                for (int d = 0; d < 2; d++) {
                    sb.append("    script ").append(DOMAINS[d]).append(": ").append(ms.scripts().get(d))
                            .append('\n');
                }
            }
            sb.append("  hops: ").append(s.hops()).append('\n');
            sb.append("observed (ms since start):\n");
            for (int m = 0; m < ids.size(); m++) {
                for (Outcome o : outcomes.get(ids.get(m))) {
                    sb.append("  m").append(m).append(" r").append(o.recipientIndex()).append(" +")
                            .append(o.atMillis() - startMillis).append(' ').append(o.kind())
                            .append(o.kind() == OutcomeKind.DEFERRED ? " next +" + (o.nextAttemptMillis()
                                    - startMillis) : "").append(" | ").append(o.detail()).append('\n');
                }
            }
            for (int d = 0; d < logs.size(); d++) {
                for (Txn t : logs.get(d)) {
                    sb.append("  hop ").append(DOMAINS[d]).append(": ").append(t).append('\n');
                }
            }
            for (Dsn dsn : dsns) {
                sb.append("  DSN to <").append(dsn.to()).append(">: ").append(dsn.entries()).append('\n');
            }
            return sb.append("  all final: ").append(allFinal).append(", buffers leaked: ").append(buffersLeaked)
                    .toString();
        }
    }

    /** One DSN as committed: its envelope recipient, whether its reverse-path is null, its text, its entries. */
    record Dsn(String to, boolean nullReversePath, int envelopeRecipients, String text, Map<String, String> message,
               List<Map<String, String>> entries) {
    }

    static final class Run {
        static Observed play(Scenario s) throws Exception {
            ScriptedHop[] hops = {new ScriptedHop(0, s), new ScriptedHop(1, s)};
            TestSink senders = TestSink.start();
            MemoryJournal journal = new MemoryJournal(100);
            DeliveryEngine engine = null;
            try {
                DeliverySettings settings = DeliverySettings.defaults()
                        .withRoutes(Map.of(DOMAINS[0], List.of(hops[0].sink.hostPort()), DOMAINS[1],
                                List.of(hops[1].sink.hostPort()), "sender.test", List.of(senders.hostPort())))
                        .withRetries(SCHEDULE_MILLIS.stream().map(Duration::ofMillis).toList(),
                                Duration.ofMillis(LIFETIME_MILLIS))
                        .withTimeouts(Duration.ofSeconds(2), COMMAND_TIMEOUT, Duration.ofSeconds(2))
                        .withLimits(new DeliverySettings.Limits(1, 100, 0, 0), Map.of())
                        .withBackoff(1000, Duration.ofMillis(30))
                        .withHeloName("tern.test");
                long start = System.currentTimeMillis();
                engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(settings), journal);
                List<Long> ids = new ArrayList<>();
                List<Long> receivedAt = new ArrayList<>();
                for (int m = 0; m < s.messages().size(); m++) {
                    long at = s.messages().get(m).aged() ? System.currentTimeMillis() - 10 * LIFETIME_MILLIS
                            : System.currentTimeMillis();
                    receivedAt.add(at);
                    ids.add(submit(journal, s, m, at));
                }
                boolean allFinal = true;
                for (long id : ids) {
                    allFinal &= journal.awaitFinal(id, WAIT);
                }
                engine.close();
                int leaked = engine.buffersOutstanding();
                engine = null;
                Map<Long, List<Outcome>> outcomes = new HashMap<>();
                for (long id : ids) {
                    outcomes.put(id, journal.outcomesOf(id));
                }
                List<Dsn> dsns = new ArrayList<>();
                for (EnvelopeRecord env : journal.bounces()) {
                    if (!ids.contains(env.queueId())) {
                        String text = new String(journal.body(env.queueId()), StandardCharsets.UTF_8);
                        dsns.add(parse(env, text));
                    }
                }
                List<List<Txn>> logs = List.of(List.copyOf(hops[0].log), List.copyOf(hops[1].log));
                List<List<String>> commands = List.of(List.copyOf(hops[0].sink.commands),
                        List.copyOf(hops[1].sink.commands));
                return new Observed(start, ids, receivedAt, outcomes, dsns, logs, commands, allFinal, leaked);
            } finally {
                if (engine != null) {
                    engine.close();
                }
                hops[0].sink.close();
                hops[1].sink.close();
                senders.close();
            }
        }

        static String body(int m) {
            return "Subject: model m" + m + "\r\nFrom: s" + m + "@sender.test\r\n\r\nbody marker m" + m
                    + "\r\n.a line with a leading dot\r\n";
        }

        private static long submit(MemoryJournal journal, Scenario s, int m, long receivedAt) throws Exception {
            MessageSpec ms = s.messages().get(m);
            Envelope env = new Envelope();
            long id = QueueId.next();
            env.begin(id, receivedAt, Envelope.utf8("127.0.0.1"), Envelope.utf8("client.test"));
            ByteBuffer sender = ByteBuffer.wrap(Envelope.utf8(s.sender(m)));
            env.sender(sender, 0, sender.limit());
            String content = body(m);
            ByteBuffer envid = ByteBuffer.wrap(Envelope.utf8(ms.envid() ? "env+2Dm" + m : ""));
            env.mailParameters(content.length(), Envelope.BODY_7BIT, false, ms.ret(), envid, 0, envid.limit());
            for (int i = 0; i < ms.rcpts().size(); i++) {
                RcptSpec r = ms.rcpts().get(i);
                ByteBuffer to = ByteBuffer.wrap(Envelope.utf8(Scenario.address(m, i, r.dest())));
                ByteBuffer orcpt = ByteBuffer.wrap(Envelope.utf8(r.orcpt() ? "rfc822;orig+2Dm" + m + "r" + i
                        + "@example.org" : ""));
                env.addRecipient(to, 0, to.limit(), r.notifyFlags(), orcpt, 0, orcpt.limit());
            }
            TestCommits.commit(journal, env, content, new BufferPool(256, 8, 1024));
            return id;
        }

        /** RFC 3464 2.1: the per-message fields, then a blank line before each group of per-recipient fields. */
        static Dsn parse(EnvelopeRecord env, String text) {
            Map<String, String> message = new HashMap<>();
            List<Map<String, String>> entries = new ArrayList<>();
            int status = text.indexOf("Content-Type: message/delivery-status");
            if (status >= 0) {
                int from = text.indexOf("\r\n\r\n", status) + 4;
                int end = text.indexOf("\r\n--", from);
                for (String group : text.substring(from, end < 0 ? text.length() : end).split("\r\n\r\n")) {
                    Map<String, String> fields = new LinkedHashMap<>();
                    for (String line : group.split("\r\n")) {
                        int colon = line.indexOf(':');
                        if (colon > 0) {
                            fields.merge(line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
                                    line.substring(colon + 1).trim(), (a, b) -> a + "\n" + b);
                        }
                    }
                    if (fields.containsKey("final-recipient")) {
                        entries.add(fields);
                    } else if (fields.containsKey("reporting-mta")) {
                        message.putAll(fields);
                    }
                }
            }
            String to = env.recipients().isEmpty() ? "" : env.recipients().getFirst().address();
            return new Dsn(to, env.nullSender(), env.recipients().size(), text, message, entries);
        }
    }

    // ------------------------------------------------------------------------------------------------ the model

    /** The expected effect of a reply: the exact line that must decide the recipient, or none (a local stand-in). */
    record Expected(String reply) {
        static final Expected LOCAL = new Expected(null);
    }

    static final class Model {
        private static final Pattern TOKEN = Pattern.compile("\\[T(\\d+)\\.(\\d+)\\.(\\d+)\\.([a-z0-9]+)]");
        /** A reply code and its enhanced code, not preceded by an address or port. */
        private static final Pattern CODE =
                Pattern.compile("(?<![\\d.:])([2-5]\\d\\d) ([2-5])\\.(\\d{1,3})\\.(\\d{1,3})");
        private final Scenario s;
        private final Observed o;
        private final List<String> problems;
        /** Per message and recipient: the status its final outcome must report (RFC 3463), from the model. */
        private final Map<String, String> finalStatus = new HashMap<>();
        private final Map<String, String> finalDiagnostic = new HashMap<>();

        Model(Scenario s, Observed o, List<String> problems) {
            this.s = s;
            this.o = o;
            this.problems = problems;
        }

        private void problem(String what) {
            problems.add("MODEL VIOLATION: " + what);
        }

        void check() {
            if (!o.allFinal()) {
                problem("not every recipient reached a final state within " + WAIT);
            }
            if (o.buffersLeaked() != 0) {
                problem(o.buffersLeaked() + " pooled buffers not returned after close");
            }
            for (int m = 0; m < s.messages().size(); m++) {
                for (int i = 0; i < s.messages().get(m).rcpts().size(); i++) {
                    checkRecipient(m, i);
                }
            }
            for (int d = 0; d < 2; d++) {
                for (Txn t : o.logs().get(d)) {
                    checkTransactionAccountedFor(t);
                }
            }
            checkReports();
            checkDsnParametersPassedOn();
            label();
        }

        private List<Outcome> outcomes(int m, int i) {
            return o.outcomes().get(o.ids().get(m)).stream().filter(x -> x.recipientIndex() == i).toList();
        }

        private boolean expired(int m, long at) {
            return at - o.receivedAt().get(m) >= LIFETIME_MILLIS;
        }

        private Txn txn(int dest, int m, int k) {
            for (Txn t : o.logs().get(dest)) {
                if (t.m == m && t.k == k) {
                    return t;
                }
            }
            return null;
        }

        /** Whether the hop ended the connection of {@code t} abruptly, in t or a later transaction on it. */
        private boolean abruptFrom(Txn t) {
            for (Txn u : o.logs().get(t.dest)) {
                if (u.conn == t.conn && u.seq >= t.seq && u.abrupt) {
                    return true;
                }
            }
            return false;
        }

        /**
         * RFC 5321 3.3/4.2.5 (with 2920/3030 pipelining): a refused MAIL decides every recipient, a refused RCPT its
         * own, a 421 (3.8) every reply still expected, the end-of-data reply every accepted recipient; a recipient
         * whose transaction broke off before its final reply has none (the client must treat it as temporary).
         * Returns null when {@code t} cannot decide recipient {@code i} at all.
         */
        private Expected expected(Txn t, int i) {
            if (!t.mailOk()) {
                return new Expected(t.mail);
            }
            if (!t.rcpts.containsKey(i)) {
                return t.closing != null ? new Expected(t.closing) : null;
            }
            String r = t.rcpts.get(i);
            if (r == null) {
                return Expected.LOCAL;
            }
            if (!r.startsWith("2")) {
                return new Expected(r);
            }
            if (t.closing != null) {
                return new Expected(t.closing);
            }
            if (t.eod != null && !t.lost) {
                return new Expected(t.eod);
            }
            return Expected.LOCAL;
        }

        private void checkRecipient(int m, int i) {
            MessageSpec ms = s.messages().get(m);
            int dest = ms.rcpts().get(i).dest();
            String who = "m" + m + " r" + i + " (" + Scenario.address(m, i, dest) + ")";
            List<Outcome> os = outcomes(m, i);
            if (os.isEmpty()) {
                problem(who + ": no outcome at all");
                return;
            }
            // Exactly one final state, the last (RFC 5321 4.5.4.1: retried until delivered, bounced or expired).
            for (int n = 0; n < os.size(); n++) {
                Outcome x = os.get(n);
                boolean last = n == os.size() - 1;
                if (x.kind() == OutcomeKind.DELETED || (last != x.kind().isFinal())) {
                    problem(who + ": outcome " + (n + 1) + " of " + os.size() + " is " + x.kind());
                }
            }
            Txn delivering = null;
            for (int n = 0; n < os.size(); n++) {
                Outcome x = os.get(n);
                String detail = x.detail();
                boolean isExpired = expired(m, x.atMillis());
                Matcher tok = TOKEN.matcher(detail);
                Expected exp;
                Txn from = null;
                if (tok.find()) {
                    int tm = Integer.parseInt(tok.group(1));
                    int td = Integer.parseInt(tok.group(2));
                    int tk = Integer.parseInt(tok.group(3));
                    from = txn(td, tm, tk);
                    if (from == null) {
                        problem(who + ": outcome " + (n + 1) + " quotes a reply never sent: " + detail);
                        continue;
                    }
                    if (tm != m || td != dest) {
                        // Only a 421 of an earlier transaction on the connection may stand for this one (3.8).
                        if (!detail.contains("421 4.3.2")) {
                            problem(who + ": outcome " + (n + 1) + " decided by another message's reply: " + detail);
                        }
                        exp = Expected.LOCAL;
                    } else {
                        exp = expected(from, i);
                        if (exp == null || exp.reply() == null || !detail.contains(exp.reply())) {
                            problem(who + ": outcome " + (n + 1) + " is '" + detail + "' but the model says "
                                    + (exp == null || exp.reply() == null ? "that transaction gave no final reply "
                                    + "for it" : "'" + exp.reply() + "'") + "; " + from);
                            continue;
                        }
                    }
                } else {
                    exp = Expected.LOCAL;
                }
                String reply = exp.reply();
                OutcomeKind want;
                String status;
                if (reply != null && reply.startsWith("2")) {
                    want = OutcomeKind.DELIVERED;
                    status = reply.substring(4, 9);
                    delivering = from;
                } else if (reply != null && reply.startsWith("5")) {
                    want = OutcomeKind.BOUNCED; // RFC 5321 4.2.5: a 5xx is final at once, expired or not
                    status = reply.substring(4, 9);
                } else if (isExpired) {
                    want = OutcomeKind.BOUNCED; // RFC 5321 4.5.4.1: the queue gave up; RFC 3463 X.4.7
                    status = "4.4.7";
                } else {
                    want = OutcomeKind.DEFERRED;
                    status = null;
                }
                if (x.kind() != want) {
                    problem(who + ": outcome " + (n + 1) + " is " + x.kind() + ", the model says " + want
                            + " (reply " + (reply == null ? "none: local" : reply) + ", " + (x.atMillis()
                            - o.receivedAt().get(m)) + " ms after arrival); detail: " + detail);
                }
                if (reply == null) {
                    // A local problem (disconnect, timeout, lost reply) is temporary: never a 5xx (RFC 5321 4.2.5).
                    Matcher c = CODE.matcher(detail);
                    if (!c.find() || !c.group(1).startsWith("4") || !c.group(2).equals("4")) {
                        problem(who + ": local outcome " + (n + 1) + " does not report a 4xx/4.x.x: " + detail);
                    }
                }
                if (x.kind() == OutcomeKind.BOUNCED && want == OutcomeKind.BOUNCED && status.equals("4.4.7")
                        && !detail.contains("4.4.7")) {
                    problem(who + ": expired without 4.4.7: " + detail);
                }
                if (x.kind().isFinal() && status != null) {
                    finalStatus.put(m + "/" + i, status);
                    finalDiagnostic.put(m + "/" + i, reply);
                }
                if (x.kind() == OutcomeKind.DEFERRED) {
                    // RFC 5321 4.5.4.1 as configured: the n-th failed attempt waits schedule[min(n, size) - 1].
                    long delay = SCHEDULE_MILLIS.get(Math.min(n + 1, SCHEDULE_MILLIS.size()) - 1);
                    if (x.nextAttemptMillis() - x.atMillis() != delay) {
                        problem(who + ": deferral " + (n + 1) + " retries after " + (x.nextAttemptMillis()
                                - x.atMillis()) + " ms, the schedule says " + delay);
                    }
                    if (n + 1 < os.size() && os.get(n + 1).atMillis() < x.nextAttemptMillis()) {
                        problem(who + ": attempt " + (n + 2) + " came " + (x.nextAttemptMillis()
                                - os.get(n + 1).atMillis()) + " ms before its retry time");
                    }
                }
            }
            // Once the engine knows of a 250 to the end of data, the recipient is never sent again; before that a
            // transaction whose content reached the hop may be repeated only if its reply may have been lost (6.1).
            List<Txn> withIt = new ArrayList<>();
            for (Txn t : o.logs().get(dest)) {
                if (t.m == m && t.rcpts.containsKey(i)) {
                    withIt.add(t);
                }
            }
            if (delivering != null) {
                for (Txn t : withIt) {
                    if (t.seq > delivering.seq) {
                        problem(who + ": sent again after it was delivered (" + delivering + "): " + t);
                    }
                }
            }
            for (Txn t : withIt) {
                String r = t.rcpts.get(i);
                if (t != delivering && t.contentTaken && r != null && r.startsWith("2") && t.closing == null) {
                    if (!abruptFrom(t)) {
                        problem(who + ": the hop took the content in " + t + " and the reply reached the engine, "
                                + "but it was not journaled as delivered");
                    }
                }
            }
        }

        /** Every final reply the hop sent for a recipient reaches its outcome, unless the connection broke after it. */
        private void checkTransactionAccountedFor(Txn t) {
            if (t.m >= s.messages().size()) {
                return;
            }
            boolean mayBeLost = abruptFrom(t);
            if (!t.mailOk()) {
                if (!mayBeLost && o.outcomes().get(o.ids().get(t.m)).stream()
                        .noneMatch(x -> x.detail().contains(t.mail))) {
                    problem("refused MAIL of " + t + " decided no recipient");
                }
                return;
            }
            for (Map.Entry<Integer, String> e : t.rcpts.entrySet()) {
                int i = e.getKey();
                if (i >= s.messages().get(t.m).rcpts().size()
                        || s.messages().get(t.m).rcpts().get(i).dest() != t.dest) {
                    problem(t + ": RCPT for a recipient that does not belong to this destination: r" + i);
                    continue;
                }
                Expected exp = expected(t, i);
                if (exp == null || exp.reply() == null || mayBeLost) {
                    continue;
                }
                long n = outcomes(t.m, i).stream().filter(x -> x.detail().contains(exp.reply())).count();
                if (n != 1) {
                    problem("m" + t.m + " r" + i + ": " + n + " outcomes carry the reply '" + exp.reply()
                            + "' of " + t + " (expected exactly 1)");
                }
            }
        }

        /**
         * RFC 3461 5.2.1: relaying to a server that offers DSN, the client MUST pass NOTIFY, ORCPT (when given),
         * RET and ENVID on; RFC 5321 4.1.1.11 / RFC 3461 5.2.2: to one that does not, it must not send them.
         */
        private void checkDsnParametersPassedOn() {
            for (int d = 0; d < 2; d++) {
                boolean dsn = s.hops().get(d).dsn();
                for (String c : o.commands().get(d)) {
                    String upper = c.toUpperCase(java.util.Locale.ROOT);
                    Matcher mail = Pattern.compile("^MAIL FROM:<S(\\d+)@").matcher(upper);
                    Matcher rcpt = Pattern.compile("^RCPT TO:<M(\\d+)R(\\d+)@").matcher(upper);
                    if (!dsn) {
                        if (upper.matches("^(MAIL|RCPT).*\\b(NOTIFY|ORCPT|RET|ENVID)=.*")) {
                            problem(DOMAINS[d] + " does not offer DSN but got: " + c);
                        }
                    } else if (rcpt.find()) {
                        RcptSpec r = s.messages().get(Integer.parseInt(rcpt.group(1))).rcpts()
                                .get(Integer.parseInt(rcpt.group(2)));
                        if (r.notifyFlags() != 0 && !upper.contains(" NOTIFY=")
                                || r.orcpt() && !upper.contains(" ORCPT=RFC822;ORIG+2DM")) {
                            problem(DOMAINS[d] + " offers DSN but NOTIFY/ORCPT was not passed on: " + c);
                        }
                        if ((r.notifyFlags() & Envelope.NOTIFY_NEVER) != 0 && !upper.contains("NOTIFY=NEVER")) {
                            problem(DOMAINS[d] + ": NOTIFY=NEVER not passed on: " + c);
                        }
                    } else if (mail.find()) {
                        MessageSpec ms = s.messages().get(Integer.parseInt(mail.group(1)));
                        if (ms.envid() && !upper.contains(" ENVID=ENV+2DM")
                                || ms.ret() == Envelope.RET_HDRS && !upper.contains(" RET=HDRS")
                                || ms.ret() == Envelope.RET_FULL && !upper.contains(" RET=FULL")) {
                            problem(DOMAINS[d] + " offers DSN but RET/ENVID was not passed on: " + c);
                        }
                    }
                }
            }
        }

        private static boolean wantsFailure(int notify) {
            return notify == 0 || (notify & Envelope.NOTIFY_FAILURE) != 0; // RFC 3461 4.1
        }

        private void checkReports() {
            Map<String, Integer> failed = new HashMap<>();
            Map<String, Integer> delivered = new HashMap<>();
            for (Dsn d : o.dsns()) {
                // RFC 5321 4.5.5 / RFC 3461 6.1: to the reverse-path, from the null reverse-path.
                int m = -1;
                for (int x = 0; x < s.messages().size(); x++) {
                    if (!s.messages().get(x).nullSender() && s.sender(x).equals(d.to())) {
                        m = x;
                    }
                }
                if (!d.nullReversePath() || d.envelopeRecipients() != 1 || m < 0) {
                    problem("a DSN that is not from <> to one scenario sender: to <" + d.to() + ">");
                    continue;
                }
                MessageSpec ms = s.messages().get(m);
                if (!d.text().contains("Content-Type: multipart/report; report-type=delivery-status")
                        || !d.text().contains("Content-Type: message/delivery-status")) {
                    problem("DSN to <" + d.to() + "> is not a multipart/report (RFC 3464 2)");
                }
                // RFC 3464 2.2.1: Original-Envelope-Id exactly when ENVID was given, xtext-decoded.
                String envid = d.message().get("original-envelope-id");
                if (ms.envid() ? !("env-m" + m).equals(envid) : envid != null) {
                    problem("DSN for m" + m + ": Original-Envelope-Id " + envid + " (ENVID given: " + ms.envid()
                            + ")");
                }
                if (!d.message().containsKey("reporting-mta") || d.entries().isEmpty()) {
                    problem("DSN for m" + m + " without Reporting-MTA or without recipients (RFC 3464 2.2.2, 2.3)");
                }
                boolean anyFailed = false;
                for (Map<String, String> e : d.entries()) {
                    if (!e.containsKey("action") || !e.containsKey("status")) {
                        problem("DSN entry without Action or Status (RFC 3464 2.3.3, 2.3.4): " + e);
                    }
                    String fr = e.getOrDefault("final-recipient", "");
                    Matcher a = Pattern.compile("rfc822; ?m(\\d+)r(\\d+)@").matcher(fr);
                    if (!a.find() || Integer.parseInt(a.group(1)) != m) {
                        problem("DSN for m" + m + " names a recipient of another message: " + fr);
                        continue;
                    }
                    int i = Integer.parseInt(a.group(2));
                    String key = m + "/" + i;
                    RcptSpec r = ms.rcpts().get(i);
                    List<Outcome> os = outcomes(m, i);
                    OutcomeKind last = os.isEmpty() ? null : os.getLast().kind();
                    String action = e.getOrDefault("action", "");
                    String status = e.getOrDefault("status", "");
                    // RFC 3464 2.3.1: Original-Recipient when ORCPT was given, decoded.
                    String orcpt = e.get("original-recipient");
                    String want = "rfc822;orig-m" + m + "r" + i + "@example.org";
                    if (r.orcpt() && (orcpt == null || !want.equals(orcpt.replaceAll(";\\s*", ";")))) {
                        problem("DSN entry for m" + m + " r" + i + ": Original-Recipient " + orcpt);
                    }
                    switch (action) {
                        case "failed" -> {
                            anyFailed = true;
                            failed.merge(key, 1, Integer::sum);
                            if (last != OutcomeKind.BOUNCED || !wantsFailure(r.notifyFlags())) {
                                problem("failure DSN for m" + m + " r" + i + " (final " + last + ", notify "
                                        + r.notifyFlags() + ")");
                            }
                            String wantStatus = finalStatus.get(key);
                            boolean expiry = "4.4.7".equals(wantStatus);
                            if (wantStatus != null
                                    && !(status.equals(wantStatus) || expiry && status.equals("5.4.7"))) {
                                problem("failure DSN for m" + m + " r" + i + ": Status " + status + ", the reply "
                                        + "says " + wantStatus);
                            }
                            String diag = finalDiagnostic.get(key);
                            if (diag != null && !e.getOrDefault("diagnostic-code", "").contains(diag)) {
                                problem("failure DSN for m" + m + " r" + i + ": Diagnostic-Code "
                                        + e.get("diagnostic-code") + " does not quote '" + diag + "'");
                            }
                        }
                        case "delivered", "relayed" -> {
                            delivered.merge(key, 1, Integer::sum);
                            if (last != OutcomeKind.DELIVERED || (r.notifyFlags() & Envelope.NOTIFY_SUCCESS) == 0) {
                                problem("success DSN for m" + m + " r" + i + " (final " + last + ", notify "
                                        + r.notifyFlags() + ")");
                            }
                            if (!status.startsWith("2.")) {
                                problem("success DSN for m" + m + " r" + i + ": Status " + status);
                            }
                        }
                        case "delayed" -> {
                            // RFC 3461 4.1: only for NOTIFY absent or including DELAY (Tern sends none).
                            if (r.notifyFlags() != 0 && (r.notifyFlags() & Envelope.NOTIFY_DELAY) == 0) {
                                problem("delay DSN for m" + m + " r" + i + " with notify " + r.notifyFlags());
                            }
                        }
                        default -> problem("DSN entry for m" + m + " r" + i + " with Action '" + action + "'");
                    }
                }
                if (anyFailed && ms.ret() == Envelope.RET_HDRS) {
                    // RFC 3461 4.3: RET=HDRS returns the headers only (RFC 3462 text/rfc822-headers).
                    if (!d.text().contains("Content-Type: text/rfc822-headers")
                            || !d.text().contains("Subject: model m" + m) || d.text().contains("body marker")) {
                        problem("failure DSN for m" + m + " with RET=HDRS does not return exactly the headers");
                    }
                } else if (anyFailed && ms.ret() == Envelope.RET_FULL) {
                    if (!d.text().contains("Content-Type: message/rfc822")
                            || !d.text().contains("body marker m" + m)) {
                        problem("failure DSN for m" + m + " with RET=FULL does not return the message");
                    }
                }
            }
            for (int m = 0; m < s.messages().size(); m++) {
                MessageSpec ms = s.messages().get(m);
                for (int i = 0; i < ms.rcpts().size(); i++) {
                    String key = m + "/" + i;
                    List<Outcome> os = outcomes(m, i);
                    OutcomeKind last = os.isEmpty() ? null : os.getLast().kind();
                    int notify = ms.rcpts().get(i).notifyFlags();
                    // RFC 3461 4.1 and 6.2 / RFC 5321 6.1: one failure report per bounced recipient that wants one,
                    // none for NOTIFY=NEVER or without FAILURE, none ever for a null reverse-path.
                    int wantFailed = !ms.nullSender() && last == OutcomeKind.BOUNCED && wantsFailure(notify) ? 1 : 0;
                    // RFC 3461 5.2.1/5.2.2: a success report only when the next hop took no DSN parameters.
                    int wantDelivered = !ms.nullSender() && last == OutcomeKind.DELIVERED
                            && (notify & Envelope.NOTIFY_SUCCESS) != 0
                            && !s.hops().get(ms.rcpts().get(i).dest()).dsn() ? 1 : 0;
                    if (failed.getOrDefault(key, 0) != wantFailed) {
                        problem("m" + m + " r" + i + " (final " + last + ", notify " + notify + ", sender <"
                                + s.sender(m) + ">): " + failed.getOrDefault(key, 0) + " failure DSN entries, "
                                + "the model says " + wantFailed);
                    }
                    if (delivered.getOrDefault(key, 0) != wantDelivered) {
                        problem("m" + m + " r" + i + " (final " + last + ", notify " + notify + ", sender <"
                                + s.sender(m) + ">): " + delivered.getOrDefault(key, 0) + " success DSN entries, "
                                + "the model says " + wantDelivered);
                    }
                }
            }
        }

        /**
         * RFC 3461 5.2.1: relayed to a server that offers DSN, NOTIFY goes on and this MTA issues no success report;
         * 5.2.2 and RFC 3464 2.3.3: relayed to one that does not, the report says "relayed", not "delivered".
         */
        void checkRelayedSuccessReports() {
            for (Dsn d : o.dsns()) {
                for (Map<String, String> e : d.entries()) {
                    String action = e.getOrDefault("action", "");
                    if (!action.equals("delivered") && !action.equals("relayed")) {
                        continue;
                    }
                    Matcher a = Pattern.compile("m(\\d+)r(\\d+)@").matcher(e.getOrDefault("final-recipient", ""));
                    if (!a.find()) {
                        continue;
                    }
                    int m = Integer.parseInt(a.group(1));
                    int i = Integer.parseInt(a.group(2));
                    int dest = s.messages().get(m).rcpts().get(i).dest();
                    if (s.hops().get(dest).dsn()) {
                        problem("m" + m + " r" + i + ": success DSN (Action: " + action + ") although the next hop "
                                + DOMAINS[dest] + " offers DSN and was given NOTIFY (RFC 3461 5.2.1)");
                    } else if (!action.equals("relayed")) {
                        problem("m" + m + " r" + i + ": relayed to " + DOMAINS[dest] + " (no DSN offered) but the "
                                + "DSN says Action: " + action + " (RFC 3461 5.2.2, RFC 3464 2.3.3: relayed)");
                    }
                }
            }
        }

        private void label() {
            boolean lost = false;
            boolean disconnect = false;
            boolean stall = false;
            boolean closing = false;
            for (List<Txn> log : o.logs()) {
                for (Txn t : log) {
                    lost |= t.lost;
                    stall |= t.rcpts.containsValue(null);
                    closing |= t.closing != null || t.mail.startsWith("421")
                            || t.eod != null && t.eod.startsWith("421");
                    disconnect |= t.abrupt && !t.lost && t.closing == null && !t.rcpts.containsValue(null)
                            && !t.mail.startsWith("421") && (t.eod == null || !t.eod.startsWith("421"));
                }
            }
            boolean expired = o.outcomes().values().stream().flatMap(List::stream)
                    .anyMatch(x -> x.detail().contains("4.4.7"));
            Statistics.label("lost reply after end of data").collect(lost);
            Statistics.label("disconnect mid-data").collect(disconnect);
            Statistics.label("peer stopped answering").collect(stall);
            Statistics.label("421").collect(closing);
            Statistics.label("expired").collect(expired);
            Statistics.label("DSNs").collect(o.dsns().size() > 0);
            boolean retried = false;
            for (List<Outcome> os : o.outcomes().values()) {
                Map<Integer, Boolean> deferred = new HashMap<>();
                for (Outcome x : os) {
                    retried |= x.kind() == OutcomeKind.DELIVERED && deferred.getOrDefault(x.recipientIndex(), false);
                    deferred.merge(x.recipientIndex(), x.kind() == OutcomeKind.DEFERRED, Boolean::logicalOr);
                }
            }
            Statistics.label("deferred, then delivered").collect(retried);
        }
    }
}

package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.sink.ReceivedMessage.StampCheck;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;

/**
 * Whether the sink's numbers can be trusted: every figure in {@link SinkStats} (connections, messages, failed
 * messages, recipients, bytes, replies by code, stamped messages, integrity failures, injected disconnects, the
 * latency count) and the Message-ID file must equal a model computed from what a client of this class sent over
 * loopback and what the sink answered. The client mirrors the sink's RFC 5321 state machine, so it also checks each
 * answer (a 354 only with a recipient, a {@code 250 N octets} per BDAT chunk, 552 above the size limit, address
 * faults, a fault ratio of 0 never firing and of 1 always firing).
 *
 * <p>Sessions are generated: DATA or BDAT in one or several chunks (empty chunks too), PIPELINING or lock-step, 1-5
 * recipients, bodies with dot-stuffing, bare LF and bare CR (content to the sink: only CRLF ends a line), commands
 * ended by a bare LF, RSET before DATA or between chunks, connections the client drops in the middle of the content,
 * with generated fault ratios and size limits. The one thing the client cannot see is whether the sink had meant to
 * cut a message the client dropped first; the model allows that many extra injected disconnects, no more.
 *
 * <p>One rule keeps the pipelined model exact: when the sink may cut a connection (disconnect ratio above 0) the
 * client reads the pending replies before the BDAT chunk where a cut may come (the first with bytes, or LAST if none
 * had any). A cut drops the replies still queued, which the client cannot tell apart; that the sink does not count
 * them is checked by {@link #bdatCutCountsOnlyTheRepliesItSent}, and that an empty BDAT message is cut too by
 * {@link #fullDisconnectRatioCutsEmptyBdatMessages}.
 */
class SinkAccountingProperties {
    private static final long STAMP_TIME = TernStamp.nowMicros();
    private static final int REPLY_TIMEOUT_MILLIS = 5_000;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final String HEX64 = "0123456789abcdef".repeat(4);
    /** Values of X-Tern-Stamp that {@link TernStamp#parseValue} must refuse. */
    private static final List<String> MALFORMED = List.of(
            "t=123; sha256=" + HEX64.substring(1),
            "t=123; sha256=" + HEX64.substring(1) + "g",
            "sha256=" + HEX64,
            "t=12a; sha256=" + HEX64,
            "t=-5; sha256=" + HEX64,
            "t=" + STAMP_TIME,
            "",
            "t=123 sha256=" + HEX64,
            "t=99999999999999999999; sha256=" + HEX64);

    // ---------------------------------------------------------------------------------------------- generated input

    enum StampKind { VALID, TAMPERED, MALFORMED, ABSENT }

    /** NORMAL: header, blank line, body. HEADER_ONLY and EMPTY apply to unstamped messages only. */
    enum Shape { NORMAL, HEADER_ONLY, EMPTY }

    enum Ending { COMPLETE, RSET_BEFORE_DATA, RSET_BETWEEN_CHUNKS, CLIENT_DROP }

    /**
     * A message to build: the body from {@code tokens}; {@code layout % 4} picks the Message-ID (none, plain, folded,
     * only in the body) and {@code layout / 4} whether the stamp comes first; {@code tamper} picks the changed byte.
     */
    record MessageSpec(StampKind kind, List<String> tokens, int layout, int malformed, int tamper, Shape shape,
                       int id) {
    }

    /** One transaction; {@code cuts} split BDAT chunks and DATA writes; {@code endingAt} where RSET or drop falls. */
    record Txn(List<String> recipients, boolean bdat, List<Integer> cuts, Ending ending, int endingAt,
               boolean sizeParam, boolean noop, MessageSpec message) {
    }

    record Session(boolean pipelining, boolean bareLf, List<Txn> txns, boolean quit) {
    }

    record Faults(double tempfailRcpt, double rejectRcpt, double tempfailData, double rejectData, double disconnect,
                  double slow, long seed, long sizeLimit, boolean keep, boolean messageIds, boolean pipelining,
                  boolean chunking) {
        SinkSettings.Builder settings() {
            return SinkSettings.builder().seed(seed).tempfailRcptRatio(tempfailRcpt).rejectRcptRatio(rejectRcpt)
                    .tempfailDataRatio(tempfailData).rejectDataRatio(rejectData).disconnectDataRatio(disconnect)
                    .slowReplies(slow, Duration.ofMillis(slow > 0 ? 1 : 0)).sizeLimit(sizeLimit).keepMessages(keep)
                    .pipelining(pipelining).chunking(chunking);
        }

        static Faults none(long seed) {
            return new Faults(0, 0, 0, 0, 0, 0, seed, 0, true, true, true, true);
        }

        static Faults ratios(long seed, double tRcpt, double rRcpt, double tData, double rData, double cut) {
            return new Faults(tRcpt, rRcpt, tData, rData, cut, 0, seed, 0, false, false, true, true);
        }
    }

    @Provide
    Arbitrary<Faults> faults() {
        Arbitrary<Double> ratio = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.just(1.0)),
                Tuple.of(5, Arbitraries.integers().between(1, 50).map(n -> n / 100.0)));
        Arbitrary<double[]> rcpt = Combinators.combine(ratio, ratio).as((t, r) -> new double[] {t, cap(r, t)});
        Arbitrary<double[]> data = Combinators.combine(ratio, ratio, ratio)
                .as((d, t, r) -> new double[] {d, cap(t, d), cap(r, d + cap(t, d))});
        Arbitrary<Double> slow = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.just(0.05)));
        Arbitrary<Long> sizeLimit = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.longs().between(100, 2_000)));
        Arbitrary<boolean[]> flags = Arbitraries.integers().between(0, 15).map(n -> new boolean[] {
                (n & 1) != 0, (n & 2) != 0, (n & 12) != 0, true});
        Arbitrary<Boolean> chunking = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(true)),
                Tuple.of(1, Arbitraries.just(false)));
        return Combinators.combine(rcpt, data, slow, Arbitraries.longs(), sizeLimit, flags, chunking)
                .as((r, d, s, seed, limit, f, c) -> new Faults(r[0], r[1], d[1], d[2], d[0], s, seed, limit, f[0],
                        f[1], f[2], c));
    }

    /** {@code r}, lowered so that it and {@code used} add up to at most 1 (in hundredths, as generated). */
    private static double cap(double r, double used) {
        return Math.min(r, Math.round((1.0 - used) * 100) / 100.0);
    }

    @Provide
    Arbitrary<MessageSpec> messageSpecs() {
        Arbitrary<String> token = Arbitraries.of("a", "Zz", " ", "\t", ".", "..", "\r\n", "\r\n", "\r\n", "\r\n.",
                "\r\n..", "\r\n.\r\n", "\r\n.\r", "\n", "\n.\n", "\r", "\r.", ".\r\n", "\u00e9t\u00e9",
                "X-Tern-Stamp: ", "line of text ".repeat(8), "y".repeat(6_000));
        return Combinators.combine(Arbitraries.of(StampKind.class), token.list().ofMaxSize(30),
                        Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, MALFORMED.size() - 1),
                        Arbitraries.integers().between(0, 1 << 20),
                        Arbitraries.frequency(Tuple.of(6, Shape.NORMAL), Tuple.of(1, Shape.HEADER_ONLY),
                                Tuple.of(1, Shape.EMPTY)),
                        Arbitraries.integers().between(0, 99_999))
                .as(MessageSpec::new);
    }

    @Provide
    Arbitrary<Txn> txns() {
        Arbitrary<String> address = Arbitraries.frequency(Tuple.of(4, "u1"), Tuple.of(4, "u2"), Tuple.of(4, "u3"),
                Tuple.of(1, "tempfail-a"), Tuple.of(1, "Reject-b"), Tuple.of(1, "TEMPFAIL"), Tuple.of(1, "rejected"))
                .map(local -> local + "@sink.test");
        Arbitrary<Ending> ending = Arbitraries.frequency(Tuple.of(8, Ending.COMPLETE),
                Tuple.of(1, Ending.RSET_BEFORE_DATA), Tuple.of(1, Ending.RSET_BETWEEN_CHUNKS),
                Tuple.of(1, Ending.CLIENT_DROP));
        return Combinators.combine(address.list().ofMinSize(1).ofMaxSize(5), Arbitraries.of(true, false),
                        Arbitraries.integers().between(0, 100_000).list().ofMaxSize(4), ending,
                        Arbitraries.integers().between(0, 100_000), Arbitraries.of(true, false),
                        Arbitraries.of(true, false, false, false), messageSpecs())
                .as(Txn::new);
    }

    @Provide
    Arbitrary<List<Session>> sessions() {
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false, false),
                        txns().list().ofMinSize(1).ofMaxSize(5), Arbitraries.of(true, true, false))
                .as(Session::new).list().ofMinSize(1).ofMaxSize(3);
    }

    @Provide
    Arbitrary<List<MessageSpec>> messageLists() {
        return messageSpecs().list().ofMinSize(1).ofMaxSize(8);
    }

    // ------------------------------------------------------------------------------------------------- properties

    /** Every counter equals the model of what was sent and answered, under generated faults and sessions. */
    @Property(tries = 300)
    void statsEqualTheModelOfWhatWasSentAndAnswered(@ForAll("faults") Faults faults,
                                                    @ForAll("sessions") List<Session> sessions) throws Exception {
        Path dir = Files.createTempDirectory("tern-sink-accounting");
        Path ids = dir.resolve("message-ids");
        try {
            SinkSettings.Builder settings = faults.settings();
            if (faults.messageIds()) {
                settings.messageIdsFile(ids);
            }
            Model model = new Model(faults);
            SmtpSink sink = SmtpSink.start(settings.build());
            try {
                for (Session s : sessions) {
                    model.run(sink.localAddress(), s);
                }
            } finally {
                sink.close();
            }
            model.assertMatches(sink);
            Statistics.label("accepted / failed / cut / dropped").collect(model.messages > 0, model.failed > 0,
                    model.cuts > 0, model.drops > 0);
            Statistics.label("stamped / integrity failures / BDAT chunks").collect(model.stamped > 0,
                    model.integrityFailures > 0, model.chunksAnswered > 0);
            if (faults.messageIds()) {
                assertThat(Files.readAllLines(ids, StandardCharsets.US_ASCII))
                        .as("message-ids file: one line per accepted delivery").isEqualTo(model.ids);
            }
        } finally {
            Files.deleteIfExists(ids);
            Files.delete(dir);
        }
    }

    /**
     * A valid stamp is intact; a body changed in one byte is a mismatch and a malformed stamp a malformed one, both
     * integrity failures and never intact; a message without a stamp is unstamped. Judged per message and counted.
     */
    @Property(tries = 150)
    void everyStampIsJudgedByItsDigestAndForm(@ForAll("messageLists") List<MessageSpec> messages,
                                              @ForAll boolean bdat, @ForAll boolean pipelining, @ForAll long seed)
            throws Exception {
        List<Txn> txns = new ArrayList<>();
        for (MessageSpec m : messages) {
            txns.add(new Txn(List.of("u1@sink.test"), bdat, List.of(m.tamper()), Ending.COMPLETE, 0, false, false,
                    m));
        }
        Model model = new Model(Faults.none(seed));
        SmtpSink sink = SmtpSink.start(model.faults.settings().build());
        try {
            model.run(sink.localAddress(), new Session(pipelining, false, txns, true));
        } finally {
            sink.close();
        }
        model.assertMatches(sink);
        List<ReceivedMessage> received = sink.received();
        assertThat(received).hasSize(messages.size());
        int valid = 0;
        for (int i = 0; i < messages.size(); i++) {
            StampKind kind = messages.get(i).kind();
            StampCheck check = received.get(i).stamp();
            assertThat(check).as("message %d, %s", i, kind).isEqualTo(expectedCheck(kind));
            valid += check == StampCheck.VALID ? 1 : 0;
        }
        long intact = messages.stream().filter(m -> m.kind() == StampKind.VALID).count();
        SinkStats s = sink.stats();
        assertThat(valid).as("intact messages").isEqualTo(intact);
        assertThat(s.stamped() - (s.integrityFailures() - count(messages, StampKind.MALFORMED)))
                .as("intact = stamped - mismatches").isEqualTo(intact);
        assertThat(s.messages() - s.stamped() - count(messages, StampKind.MALFORMED))
                .as("unstamped").isEqualTo(count(messages, StampKind.ABSENT));
    }

    /**
     * Over a few thousand transactions per setting, with fixed seeds, each observed fault share stays within 4.5
     * standard deviations of its ratio (the sink's counters agreeing with the client's view throughout).
     */
    @Example
    void faultSharesStayNearTheirRatios() throws Exception {
        List<Faults> settings = List.of(
                Faults.ratios(1, 0.10, 0.20, 0.10, 0.15, 0.05),
                Faults.ratios(42, 0.0, 0.5, 0.3, 0.0, 0.2),
                Faults.ratios(0xC0FFEE, 0.33, 0.0, 0.11, 0.56, 0.33),
                Faults.ratios(7, 0.02, 0.03, 0.01, 0.02, 0.03));
        for (Faults f : settings) {
            Model m = runLoad(f, 2_500);
            assertShare("tempfail-rcpt", m.rcptTempfails, m.rcptRolls, f.tempfailRcpt());
            assertShare("reject-rcpt", m.rcptRejects, m.rcptRolls, f.rejectRcpt());
            assertShare("disconnect-data", m.dataCuts, m.dataRolls, f.disconnect());
            assertShare("tempfail-data", m.dataTempfails, m.dataRolls, f.tempfailData());
            assertShare("reject-data", m.dataRejects, m.dataRolls, f.rejectData());
        }
    }

    /** A ratio of 0 never fires and a ratio of 1 always fires, at RCPT and at the end of DATA and BDAT. */
    @Example
    void ratioZeroNeverFiresAndOneAlwaysFires() throws Exception {
        Model none = runLoad(Faults.ratios(3, 0, 0, 0, 0, 0), 300);
        assertThat(none.rcptTempfails + none.rcptRejects + none.dataCuts + none.dataTempfails + none.dataRejects)
                .as("faults with every ratio 0").isZero();
        assertThat(none.dataRolls).isEqualTo(300);
        Model tRcpt = runLoad(Faults.ratios(3, 1, 0, 0, 0, 0), 300);
        assertThat(tRcpt.rcptTempfails).isEqualTo(tRcpt.rcptRolls).isPositive();
        Model rRcpt = runLoad(Faults.ratios(3, 0, 1, 0, 0, 0), 300);
        assertThat(rRcpt.rcptRejects).isEqualTo(rRcpt.rcptRolls).isPositive();
        Model tData = runLoad(Faults.ratios(3, 0, 0, 1, 0, 0), 300);
        assertThat(tData.dataTempfails).isEqualTo(tData.dataRolls).isEqualTo(300);
        Model rData = runLoad(Faults.ratios(3, 0, 0, 0, 1, 0), 300);
        assertThat(rData.dataRejects).isEqualTo(rData.dataRolls).isEqualTo(300);
        Model cut = runLoad(Faults.ratios(3, 0, 0, 0, 0, 1), 300);
        assertThat(cut.dataCuts).isEqualTo(cut.dataRolls).isEqualTo(300);
    }

    /** disconnect-data=1 cuts every message, the empty one sent as {@code BDAT 0 LAST} included. */
    @Example
    void fullDisconnectRatioCutsEmptyBdatMessages() throws Exception {
        Model m = new Model(Faults.ratios(3, 0, 0, 0, 0, 1));
        MessageSpec empty = new MessageSpec(StampKind.ABSENT, List.of(), 0, 0, 0, Shape.EMPTY, 1);
        SmtpSink sink = SmtpSink.start(m.faults.settings().build());
        try {
            m.run(sink.localAddress(), new Session(false, false, List.of(new Txn(List.of("u1@sink.test"), true,
                    List.of(), Ending.COMPLETE, 0, false, false, empty)), true));
        } finally {
            sink.close();
        }
        assertThat(m.emptyBdatUncut).as("empty BDAT messages the sink answered instead of cutting").isZero();
        assertThat(sink.stats().injectedDisconnects()).isEqualTo(1);
        assertThat(sink.stats().messages()).isZero();
    }

    /**
     * When the sink cuts a pipelined BDAT transaction (MAIL, RCPT, BDAT and its bytes in one write), the replies it
     * queued for MAIL and RCPT were never sent: they must not be counted as replies sent nor as accepted recipients.
     */
    @Property(tries = 20)
    void bdatCutCountsOnlyTheRepliesItSent(@ForAll("messageSpecs") MessageSpec message) throws Exception {
        Model model = new Model(Faults.ratios(5, 0, 0, 0, 0, 1));
        Built built = build(message, false);
        byte[] content = built.content().length == 0 ? "x\r\n".getBytes(StandardCharsets.US_ASCII)
                : built.content();
        SmtpSink sink = SmtpSink.start(model.faults.settings().build());
        Map<Integer, Long> received = new TreeMap<>();
        try (Wire w = new Wire(sink.localAddress())) {
            received.merge(w.reply(), 1L, Long::sum);
            w.append(ascii("EHLO client.test\r\n"));
            w.flush();
            received.merge(w.reply(), 1L, Long::sum);
            w.append(ascii("MAIL FROM:<a@client.test>\r\nRCPT TO:<u1@sink.test>\r\nBDAT " + content.length
                    + " LAST\r\n"));
            w.append(content);
            w.flush();
            int code;
            while ((code = w.reply()) > 0) {
                received.merge(code, 1L, Long::sum);
            }
        } finally {
            sink.close();
        }
        SinkStats s = sink.stats();
        assertThat(s.injectedDisconnects()).isEqualTo(1);
        assertThat(s.replies()).as("replies the client received").isEqualTo(received);
        assertThat(s.recipients()).as("RCPTs answered 250 on the wire").isEqualTo(received.getOrDefault(250, 0L) - 1);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static StampCheck expectedCheck(StampKind kind) {
        return switch (kind) {
            case VALID -> StampCheck.VALID;
            case TAMPERED -> StampCheck.MISMATCH;
            case MALFORMED -> StampCheck.MALFORMED;
            case ABSENT -> StampCheck.ABSENT;
        };
    }

    private static long count(List<MessageSpec> messages, StampKind kind) {
        return messages.stream().filter(m -> m.kind() == kind).count();
    }

    /** Plain load: one or two ordinary recipients, small unstamped messages, DATA and BDAT in turn, pipelined. */
    private static Model runLoad(Faults f, int transactions) throws IOException {
        Model m = new Model(f);
        SmtpSink sink = SmtpSink.start(f.settings().build());
        try {
            int done = 0;
            int n = 0;
            while (done < transactions) {
                List<Txn> txns = new ArrayList<>();
                for (int i = 0; i < Math.min(100, transactions - done); i++, n++) {
                    MessageSpec body = new MessageSpec(StampKind.ABSENT, List.of("line ", "" + n, "\r\n.dot\r\n"),
                            1, 0, 0, Shape.NORMAL, n);
                    List<String> rcpts = n % 3 == 0 ? List.of("u1@sink.test", "u2@sink.test")
                            : List.of("u" + n + "@sink.test");
                    txns.add(new Txn(rcpts, n % 2 == 0, List.of(n % 17), Ending.COMPLETE, 0, false, false, body));
                }
                done += m.run(sink.localAddress(), new Session(true, false, txns, true));
            }
        } finally {
            sink.close();
        }
        m.assertMatches(sink);
        return m;
    }

    private static void assertShare(String name, long hits, long trials, double ratio) {
        assertThat(trials).as("%s trials", name).isGreaterThan(500);
        double share = (double) hits / trials;
        double sigma = Math.sqrt(ratio * (1 - ratio) / trials);
        assertThat(Math.abs(share - ratio)).as("%s: %d of %d (%.4f) against ratio %.2f, sigma %.4f", name, hits,
                trials, share, ratio, sigma).isLessThanOrEqualTo(4.5 * sigma + 1e-12);
    }

    /** A message as the recipient should see it, how the sink should judge it and what its Message-ID line is. */
    record Built(byte[] content, StampKind kind, String idLine) {
    }

    /** {@code data}: the content will go by DATA, so a non-empty body ends with CRLF (RFC 5321 section 4.1.1.4). */
    static Built build(MessageSpec m, boolean data) {
        if (m.kind() == StampKind.ABSENT && m.shape() == Shape.EMPTY) {
            return new Built(new byte[0], StampKind.ABSENT, "-");
        }
        int idStyle = m.layout() % 4;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (idStyle == 3) {
            b.writeBytes(ascii("Message-ID: <body" + m.id() + "@sink.test>\r\n"));
        }
        if (m.kind() == StampKind.TAMPERED) {
            b.write('x');
        }
        for (String t : m.tokens()) {
            b.writeBytes(t.getBytes(StandardCharsets.UTF_8));
        }
        byte[] body = b.toByteArray();
        if (data && body.length > 0 && !endsWithCrlf(body)) {
            body = concat(body, CRLF);
        }
        String stamp = switch (m.kind()) {
            case VALID, TAMPERED -> new TernStamp(STAMP_TIME - m.id(), sha256(body)).headerLine();
            case MALFORMED -> TernStamp.HEADER + ": " + MALFORMED.get(m.malformed()) + "\r\n";
            case ABSENT -> "";
        };
        String id = "<m" + m.id() + "@sink.test>";
        String idHeader = idStyle == 1 ? "Message-ID: " + id + "\r\n" : idStyle == 2 ? "Message-ID:\r\n " + id + "\r\n"
                : "";
        String header = (m.layout() < 4 ? stamp + idHeader : idHeader + stamp) + "From: <a@client.test>\r\n"
                + "Subject: accounting " + m.id() + "\r\n";
        String idLine = idStyle == 1 || idStyle == 2 ? id : "-";
        if (m.kind() == StampKind.ABSENT && m.shape() == Shape.HEADER_ONLY) {
            return new Built(ascii(header), m.kind(), idLine);
        }
        if (m.kind() == StampKind.TAMPERED) {
            int at = (m.tamper() >>> 8) % (body.length - (data ? 2 : 0));
            body[at] ^= (byte) (1 + m.tamper() % 255);
        }
        return new Built(concat(concat(ascii(header), CRLF), body), m.kind(), idLine);
    }

    /** Dot-stuffing (RFC 5321 section 4.5.2): a line starts after CRLF only, so a dot after a bare LF stays. */
    static byte[] stuff(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 16);
        boolean lineStart = true;
        for (int i = 0; i < content.length; i++) {
            if (lineStart && content[i] == '.') {
                out.write('.');
            }
            out.write(content[i]);
            lineStart = content[i] == '\n' && i > 0 && content[i - 1] == '\r';
        }
        out.writeBytes(ascii(".\r\n"));
        return out.toByteArray();
    }

    /** {@code content} split at the cut points (taken modulo its length + 1, so chunks may be empty). */
    static List<byte[]> split(byte[] content, List<Integer> cuts) {
        List<Integer> at = new ArrayList<>();
        for (int c : cuts) {
            at.add(c % (content.length + 1));
        }
        Collections.sort(at);
        List<byte[]> parts = new ArrayList<>();
        int from = 0;
        for (int a : at) {
            parts.add(Arrays.copyOfRange(content, from, a));
            from = a;
        }
        parts.add(Arrays.copyOfRange(content, from, content.length));
        return parts;
    }

    private static boolean endsWithCrlf(byte[] b) {
        return b.length >= 2 && b[b.length - 2] == '\r' && b[b.length - 1] == '\n';
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------- client and model

    /** A raw SMTP client: appends bytes, writes them on flush, reads one reply at a time. */
    static final class Wire implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        private String lastText = "";

        Wire(InetSocketAddress address) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(address, REPLY_TIMEOUT_MILLIS);
            socket.setSoTimeout(REPLY_TIMEOUT_MILLIS);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        void append(byte[] bytes) {
            pending.writeBytes(bytes);
        }

        /** Writes what was appended. A write refused because the sink cut the connection shows in the replies. */
        void flush() {
            byte[] bytes = pending.toByteArray();
            pending.reset();
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                // the next reply() sees the end of the connection
            }
        }

        /** The next reply's code, or -1 when the connection ended (closed or reset) instead. */
        int reply() {
            StringBuilder text = new StringBuilder();
            try {
                while (true) {
                    ByteArrayOutputStream line = new ByteArrayOutputStream();
                    int c;
                    while ((c = in.read()) >= 0 && c != '\n') {
                        line.write(c);
                    }
                    if (c < 0) {
                        return -1;
                    }
                    String l = line.toString(StandardCharsets.US_ASCII);
                    text.append(l).append('\n');
                    if (l.length() < 4 || l.charAt(3) != '-') {
                        lastText = text.toString();
                        return Integer.parseInt(l.substring(0, 3));
                    }
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no reply within " + REPLY_TIMEOUT_MILLIS + " ms after " + text);
            } catch (IOException e) {
                return -1;
            }
        }

        String lastText() {
            return lastText;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    enum Cmd { GREETING, EHLO, NOOP, MAIL, RCPT, DATA, CONTENT, BDAT, RSET, QUIT }

    /** A reply the client waits for: {@code flag} is LAST for BDAT and "SIZE above the limit" for MAIL. */
    record Expect(Cmd cmd, String address, Built message, long size, boolean flag) {
    }

    /** What the client saw and what the sink must therefore have counted; also a mirror of the sink's session. */
    static final class Model {
        final Faults faults;
        long connections;
        long messages;
        long failed;
        long recipients;
        long bytes;
        long stamped;
        long integrityFailures;
        long cuts;
        long drops;
        final Map<Integer, Long> replies = new TreeMap<>();
        final List<String> ids = new ArrayList<>();
        final List<Delivered> delivered = new ArrayList<>();
        // Fault observations (recipients without address faults; messages whose fate shows).
        long rcptRolls;
        long rcptTempfails;
        long rcptRejects;
        long dataRolls;
        long dataCuts;
        long dataTempfails;
        long dataRejects;
        long emptyBdatUncut;
        long chunksAnswered;
        // One connection's state, as the sink must see it.
        private Wire wire;
        private boolean alive;
        private boolean bareLf;
        private boolean inTxn;
        private boolean chunking;
        private boolean dataOpen;
        private boolean dataSeen;
        private final List<String> accepted = new ArrayList<>();
        private final ArrayDeque<Expect> queue = new ArrayDeque<>();
        private String ehloText = "";

        record Delivered(byte[] content, StampKind kind, List<String> recipients, boolean chunked) {
        }

        Model(Faults faults) {
            this.faults = faults;
        }

        /** Runs one session on a new connection; returns how many of its transactions were attempted. */
        int run(InetSocketAddress address, Session s) throws IOException {
            wire = new Wire(address);
            connections++;
            alive = true;
            bareLf = s.bareLf();
            resetTxn();
            int attempted = 0;
            try {
                expect(Cmd.GREETING);
                command("EHLO client.test");
                expect(Cmd.EHLO);
                sync();
                boolean pipelining = s.pipelining() && ehloText.contains("PIPELINING");
                boolean chunkingOffered = ehloText.contains("CHUNKING");
                for (Txn t : s.txns()) {
                    if (!alive) {
                        break;
                    }
                    attempted++;
                    transaction(t, pipelining, chunkingOffered);
                    if (alive && inTxn) {
                        // As a client does after a transaction that did not end with a final reply.
                        command("RSET");
                        expect(Cmd.RSET);
                        sync();
                    }
                }
                if (alive && s.quit()) {
                    command("QUIT");
                    expect(Cmd.QUIT);
                    sync();
                }
            } finally {
                wire.close();
            }
            return attempted;
        }

        private void transaction(Txn t, boolean pipelining, boolean chunkingOffered) throws IOException {
            boolean bdat = t.bdat() && chunkingOffered;
            Built m = build(t.message(), !bdat);
            if (t.noop()) {
                command("NOOP");
                expect(Cmd.NOOP);
            }
            command("MAIL FROM:<a@client.test>" + (t.sizeParam() ? " SIZE=" + m.content().length : ""));
            queue.add(new Expect(Cmd.MAIL, null, null, 0,
                    t.sizeParam() && faults.sizeLimit() > 0 && m.content().length > faults.sizeLimit()));
            if (!pipelining && !sync()) {
                return;
            }
            int rcpts = t.ending() == Ending.RSET_BEFORE_DATA ? t.endingAt() % (t.recipients().size() + 1)
                    : t.recipients().size();
            for (int i = 0; i < rcpts; i++) {
                command("RCPT TO:<" + t.recipients().get(i) + ">");
                queue.add(new Expect(Cmd.RCPT, t.recipients().get(i), null, 0, false));
                if (!pipelining && !sync()) {
                    return;
                }
            }
            if (t.ending() == Ending.RSET_BEFORE_DATA) {
                command("RSET");
                expect(Cmd.RSET);
                sync();
                return;
            }
            if (bdat) {
                chunks(t, m, pipelining);
                return;
            }
            command("DATA");
            queue.add(new Expect(Cmd.DATA, null, m, 0, false));
            if (!sync() || !dataOpen) {
                return;
            }
            byte[] stuffed = stuff(m.content());
            if (t.ending() == Ending.CLIENT_DROP) {
                drop(Arrays.copyOf(stuffed, t.endingAt() % stuffed.length));
                return;
            }
            for (byte[] piece : split(stuffed, t.cuts())) {
                wire.append(piece);
                wire.flush();
            }
            queue.add(new Expect(Cmd.CONTENT, null, m, 0, false));
            sync();
        }

        private void chunks(Txn t, Built m, boolean pipelining) throws IOException {
            List<byte[]> chunks = split(m.content(), t.cuts());
            int rsetAt = t.ending() == Ending.RSET_BETWEEN_CHUNKS ? t.endingAt() % chunks.size() : -1;
            int dropAt = -1;
            if (t.ending() == Ending.CLIENT_DROP) {
                dropAt = chunks.size();
                for (int j = t.endingAt() % chunks.size(); j < chunks.size(); j++) {
                    if (chunks.get(j).length > 0) {
                        dropAt = j;
                        break;
                    }
                }
            }
            boolean bytesSent = false;
            for (int j = 0; j < chunks.size(); j++) {
                byte[] chunk = chunks.get(j);
                boolean last = j == chunks.size() - 1;
                if (j == rsetAt) {
                    command("RSET");
                    expect(Cmd.RSET);
                    sync();
                    return;
                }
                if (j == dropAt) {
                    if (!sync()) {
                        return;
                    }
                    wire.append(ascii("BDAT " + chunk.length + (last ? " LAST" : "") + eol()));
                    drop(Arrays.copyOf(chunk, t.endingAt() % chunk.length));
                    return;
                }
                // A cut may come at the first chunk with bytes (or LAST, if none had any): have every earlier
                // reply read by then.
                if (faults.disconnect() > 0 && (chunk.length > 0 || last) && !bytesSent && !sync()) {
                    return;
                }
                wire.append(ascii("BDAT " + chunk.length + (last ? " LAST" : "") + eol()));
                wire.append(chunk);
                bytesSent |= chunk.length > 0;
                queue.add(new Expect(Cmd.BDAT, null, m, chunk.length, last));
                if (!pipelining && !sync()) {
                    return;
                }
            }
            if (dropAt == chunks.size()) {
                // Nothing left with bytes to drop in: drop after the last reply.
                if (sync()) {
                    drop(new byte[0]);
                }
                return;
            }
            sync();
        }

        private void drop(byte[] partial) throws IOException {
            wire.append(partial);
            wire.flush();
            wire.close();
            drops++;
            alive = false;
        }

        private String eol() {
            return bareLf ? "\n" : "\r\n";
        }

        private void command(String line) {
            wire.append(ascii(line + eol()));
        }

        private void expect(Cmd cmd) {
            queue.add(new Expect(cmd, null, null, 0, false));
        }

        /** Writes what is pending and reads every reply owed; false when the sink cut the connection. */
        private boolean sync() throws IOException {
            if (!alive) {
                return false;
            }
            wire.flush();
            while (!queue.isEmpty()) {
                Expect e = queue.poll();
                int code = wire.reply();
                if (code < 0) {
                    assertThat(cutAllowed(e)).as("connection ended awaiting the reply to %s (model %s)", e.cmd(),
                            this).isTrue();
                    cuts++;
                    failed++;
                    dataRolls++;
                    dataCuts++;
                    alive = false;
                    queue.clear();
                    wire.close();
                    return false;
                }
                replies.merge(code, 1L, Long::sum);
                handle(e, code, wire.lastText());
            }
            return true;
        }

        /**
         * The sink cuts only a started message, at its first content bytes (at BDAT LAST for a message without
         * any), and only with a ratio above 0.
         */
        private boolean cutAllowed(Expect e) {
            if (faults.disconnect() <= 0) {
                return false;
            }
            return switch (e.cmd()) {
                case CONTENT -> dataOpen;
                case BDAT -> inTxn && !accepted.isEmpty() && (e.size() > 0 || e.flag()) && !dataSeen;
                default -> false;
            };
        }

        private void handle(Expect e, int code, String text) {
            String what = e.cmd() + (e.address() == null ? "" : " " + e.address());
            switch (e.cmd()) {
                case GREETING -> assertThat(code).as(what).isEqualTo(220);
                case EHLO -> {
                    assertThat(code).as(what).isEqualTo(250);
                    ehloText = text;
                    resetTxn();
                }
                case NOOP -> assertThat(code).as(what).isEqualTo(250);
                case RSET -> {
                    assertThat(code).as(what).isEqualTo(250);
                    resetTxn();
                }
                case QUIT -> assertThat(code).as(what).isEqualTo(221);
                case MAIL -> {
                    if (inTxn) {
                        assertThat(code).as("nested " + what).isEqualTo(503);
                    } else if (e.flag()) {
                        assertThat(code).as(what + " with SIZE above the limit").isEqualTo(552);
                    } else {
                        assertThat(code).as(what).isEqualTo(250);
                        inTxn = true;
                    }
                }
                case RCPT -> rcpt(code, e.address());
                case DATA -> {
                    if (!inTxn || chunking) {
                        assertThat(code).as(what).isEqualTo(503);
                    } else if (accepted.isEmpty()) {
                        assertThat(code).as(what + " without recipients").isEqualTo(554);
                    } else {
                        assertThat(code).as(what).isEqualTo(354);
                        dataOpen = true;
                    }
                }
                case CONTENT -> {
                    assertThat(faults.disconnect()).as("disconnect ratio 1, yet the content was answered")
                            .isLessThan(1.0);
                    finish(code, e.message(), false);
                }
                case BDAT -> {
                    if (!inTxn) {
                        assertThat(code).as(what + " outside a transaction").isEqualTo(503);
                    } else if (accepted.isEmpty()) {
                        assertThat(code).as(what + " without recipients").isEqualTo(554);
                    } else {
                        if ((e.size() > 0 || e.flag()) && !dataSeen) {
                            assertThat(faults.disconnect()).as("disconnect ratio 1, yet the chunk was answered")
                                    .isLessThan(1.0);
                        }
                        chunking = true;
                        dataSeen |= e.size() > 0;
                        if (e.flag()) {
                            finish(code, e.message(), true);
                        } else {
                            assertThat(code).as(what).isEqualTo(250);
                            assertThat(text).as(what).contains(" " + e.size() + " octets");
                            chunksAnswered++;
                        }
                    }
                }
                default -> throw new IllegalStateException(what);
            }
        }

        private void rcpt(int code, String address) {
            if (!inTxn) {
                assertThat(code).as("RCPT without MAIL").isEqualTo(503);
                return;
            }
            String local = address.toLowerCase(Locale.ROOT);
            if (local.startsWith("tempfail")) {
                assertThat(code).as("RCPT %s (address fault)", address).isEqualTo(451);
            } else if (local.startsWith("reject")) {
                assertThat(code).as("RCPT %s (address fault)", address)
                        .isIn(faults.tempfailRcpt() > 0 ? List.of(451, 550) : List.of(550));
            } else {
                assertThat(code).as("RCPT %s", address).isIn(250, 451, 550);
                rcptRolls++;
                rcptTempfails += code == 451 ? 1 : 0;
                rcptRejects += code == 550 ? 1 : 0;
                checkRatio("tempfail-rcpt", faults.tempfailRcpt(), code == 451);
                checkRatio("reject-rcpt", faults.rejectRcpt(), code == 550);
            }
            if (code == 250) {
                recipients++;
                accepted.add(address);
            }
        }

        /** The reply at the end of a message's content. */
        private void finish(int code, Built m, boolean chunked) {
            boolean empty = chunked && !dataSeen;
            if (empty && faults.disconnect() >= 1.0) {
                emptyBdatUncut++;
            }
            if (faults.sizeLimit() > 0 && m.content().length > faults.sizeLimit()) {
                assertThat(code).as("end of a %d-byte message, limit %d", m.content().length, faults.sizeLimit())
                        .isEqualTo(552);
                failed++;
            } else {
                assertThat(code).as("end of data").isIn(250, 451, 550);
                dataRolls++;
                dataTempfails += code == 451 ? 1 : 0;
                dataRejects += code == 550 ? 1 : 0;
                checkRatio("tempfail-data", faults.tempfailData(), code == 451);
                checkRatio("reject-data", faults.rejectData(), code == 550);
                if (code == 250) {
                    messages++;
                    bytes += m.content().length;
                    ids.add(m.idLine());
                    stamped += m.kind() == StampKind.VALID || m.kind() == StampKind.TAMPERED ? 1 : 0;
                    integrityFailures += m.kind() == StampKind.TAMPERED || m.kind() == StampKind.MALFORMED ? 1 : 0;
                    delivered.add(new Delivered(m.content(), m.kind(), List.copyOf(accepted), chunked));
                } else {
                    failed++;
                }
            }
            resetTxn();
        }

        private static void checkRatio(String name, double ratio, boolean fired) {
            if (ratio == 0) {
                assertThat(fired).as("%s=0 fired", name).isFalse();
            } else if (ratio >= 1) {
                assertThat(fired).as("%s=1 did not fire", name).isTrue();
            }
        }

        private void resetTxn() {
            inTxn = false;
            chunking = false;
            dataOpen = false;
            dataSeen = false;
            accepted.clear();
        }

        /** The sink's stats, once it is closed, against the model. */
        void assertMatches(SmtpSink sink) {
            SinkStats s = sink.stats();
            // Messages the client dropped first may also have been ones the sink meant to cut: it counts those as
            // injected disconnects (and failed messages) that no reply could show.
            long unseenCuts = s.injectedDisconnects() - cuts;
            assertThat(unseenCuts).as("cuts the client could not see (of %d drops), stats %s", drops, s)
                    .isBetween(0L, drops);
            assertThat(s.connections()).as("connections").isEqualTo(connections);
            assertThat(s.activeConnections()).as("active connections").isZero();
            assertThat(s.messages()).as("messages").isEqualTo(messages);
            assertThat(s.failedMessages()).as("failed messages").isEqualTo(failed + unseenCuts);
            assertThat(s.recipients()).as("recipients").isEqualTo(recipients);
            assertThat(s.bytes()).as("bytes").isEqualTo(bytes);
            assertThat(s.replies()).as("replies by code").isEqualTo(replies);
            assertThat(s.stamped()).as("stamped").isEqualTo(stamped);
            assertThat(s.integrityFailures()).as("integrity failures").isEqualTo(integrityFailures);
            assertThat(s.latencyMicros().getTotalCount()).as("latencies recorded").isEqualTo(stamped);
            if (faults.keep()) {
                List<ReceivedMessage> received = sink.received();
                assertThat(received).as("kept messages").hasSize(delivered.size());
                for (int i = 0; i < received.size(); i++) {
                    ReceivedMessage r = received.get(i);
                    Delivered d = delivered.get(i);
                    assertThat(r.content()).as("content of message %d", i).isEqualTo(d.content());
                    assertThat(r.stamp()).as("stamp of message %d", i).isEqualTo(expectedCheck(d.kind()));
                    assertThat(r.recipients()).as("recipients of message %d", i).isEqualTo(d.recipients());
                    assertThat(r.chunked()).as("chunked, message %d", i).isEqualTo(d.chunked());
                }
            }
        }

        @Override
        public String toString() {
            return "inTxn=" + inTxn + " chunking=" + chunking + " dataOpen=" + dataOpen + " dataSeen=" + dataSeen
                    + " accepted=" + accepted;
        }
    }
}

package dev.tern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.DeliverySettings;
import dev.tern.config.RelayConfig;
import dev.tern.delivery.DeliveryEngine;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalStats;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The relay's control socket ({@link AdminServer}, what {@code tern queue} talks to) over a real Unix socket: any
 * request, well-formed or hostile (random text and octets, invalid UTF-8, NULs, lone CRs, long lines, no line end
 * at all), is answered within a bounded time with its output and a last line {@code OK} or {@code ERR reason}, as a
 * model of the documented requests ({@code list}, {@code show ID}, {@code stats}, {@code flush}, {@code delete ID})
 * predicts, on a relay with delivery and on one without. jqwik prints the seed of a failure.
 */
class AdminServerProperties {
    /** The servers' connection timeout here (the relay's is {@link AdminServer#CONNECTION_TIMEOUT}). */
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(2);
    private static final long KNOWN_ID = 0x0193A4F2C81B0007L;
    private static final String KNOWN = QueueId.format(KNOWN_ID);

    private static Path dir;
    private static StubJournal journal;
    private static AdminServer withoutDelivery;
    private static Path withoutDeliveryDir;
    private static DeliveryEngine delivery;
    private static AdminServer withDelivery;
    private static Path withDeliveryDir;

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("tern-admin");
        journal = new StubJournal();
        withoutDeliveryDir = Files.createDirectory(dir.resolve("a"));
        withoutDelivery = AdminServer.start(withoutDeliveryDir, journal, null, STALL_TIMEOUT);
        withDeliveryDir = Files.createDirectory(dir.resolve("b"));
        // delivery switched off: the engine answers flush and delete, but never looks up or connects anywhere
        delivery = DeliveryEngine.start(RelayConfig.defaults().withDelivery(DeliverySettings.defaults()
                .withEnabled(false)), journal);
        withDelivery = AdminServer.start(withDeliveryDir, journal, delivery, STALL_TIMEOUT);
    }

    @AfterContainer
    static void stop() throws IOException {
        withoutDelivery.close();
        withDelivery.close();
        delivery.close();
        try (var files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    /** Sends {@code request} as is, closes the sending side, reads the answer to its end; fails after 5 s. */
    private static List<String> exchange(Path dataDir, byte[] request) throws Exception {
        CompletableFuture<List<String>> answer = CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = SocketChannel.open(AdminServer.address(dataDir.resolve(AdminServer.SOCKET_NAME)))) {
                ByteBuffer out = ByteBuffer.wrap(request);
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                ch.shutdownOutput();
                ByteArrayOutputStream in = new ByteArrayOutputStream();
                ByteBuffer buf = ByteBuffer.allocate(8192);
                while (ch.read(buf.clear()) >= 0) {
                    in.write(buf.array(), 0, buf.position());
                }
                return in.toString(StandardCharsets.UTF_8).lines().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        return answer.get(5, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------- requests and the model

    @Provide
    Arbitrary<String> ids() {
        return Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(KNOWN, KNOWN.toLowerCase(Locale.ROOT), "0000000000000001",
                        "FFFFFFFFFFFFFFFF")),
                Tuple.of(2, Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(16)),
                Tuple.of(2, Arbitraries.strings().withChars("0123456789abcdefABCDEFg+-x ").ofMaxLength(18)),
                Tuple.of(1, Arbitraries.of("+193A4F2C81B0007", "0x93A4F2C81B0007", "\u0661".repeat(16), "",
                        KNOWN + "0", KNOWN.substring(1))));
    }

    @Provide
    Arbitrary<String> requests() {
        Arbitrary<String> verb = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("list", "show", "stats", "flush", "delete")),
                Tuple.of(2, Arbitraries.of("LIST", "Show", "lists", "", "quit", "help", "list;", "\u0000", "show\u0000",
                        "delete\u00a0", "\u2028list")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(12)));
        Arbitrary<String> space = Arbitraries.of(" ", " ", "\t", "  \t ", "\u000b", "\f");
        Arbitrary<String> edge = Arbitraries.of("", "", " ", "\t", "\u0000");
        Arbitrary<String> extra = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.of(" junk", " " + KNOWN, "\u0000", " \u00e9\u00e8")));
        return Combinators.combine(edge, verb, space, ids(), extra, Arbitraries.of(0, 1, 1, 1, 2))
                .as((lead, v, sp, id, x, args) -> lead + v + (args == 0 ? "" : sp + id) + (args == 2 ? x : "")
                        + lead);
    }

    @Provide
    Arbitrary<String> lineEnds() {
        return Arbitraries.of("\n", "\n", "\r\n", "\r", "", "\nstats\n", "\r\nflush", "\n\n\n");
    }

    /**
     * What the server must answer, from AdminServer's javadoc and the QueueId format (16 ASCII hex digits). An error
     * quotes the request with every char outside printable ASCII as '?'.
     */
    private static List<String> expected(String request, boolean hasDelivery) {
        List<String> answer = expectedRaw(request, hasDelivery);
        String last = answer.getLast();
        if (!last.startsWith("ERR ")) {
            return answer;
        }
        StringBuilder b = new StringBuilder();
        last.chars().forEach(c -> b.append(c >= 0x20 && c < 0x7F ? (char) c : '?'));
        return List.of(b.toString());
    }

    private static List<String> expectedRaw(String request, boolean hasDelivery) {
        if (request.getBytes(StandardCharsets.UTF_8).length > AdminServer.MAX_REQUEST) {
            return List.of("ERR request longer than " + AdminServer.MAX_REQUEST + " bytes");
        }
        String[] words = request.trim().split("\\s+");
        String verb = words[0];
        boolean needsId = verb.equals("show") || verb.equals("delete");
        if ((verb.equals("flush") || verb.equals("delete")) && !hasDelivery) {
            return List.of("ERR delivery is disabled on this relay");
        }
        if (needsId && words.length < 2) {
            return List.of("ERR " + verb + " needs a queue id");
        }
        if (needsId && !words[1].matches("[0-9a-fA-F]{16}")) {
            return List.of("ERR a queue id has 16 hex digits: " + words[1]);
        }
        if (needsId && Long.parseUnsignedLong(words[1], 16) != KNOWN_ID) {
            return List.of("ERR no queued message " + words[1]);
        }
        return switch (verb) {
            case "list" -> List.of("ID", KNOWN, "1 message(s) queued", "OK");
            case "show" -> List.of("id:        " + KNOWN, "headers:", "  Subject: hello", "OK");
            case "stats" -> List.of("journal: 1 queued", hasDelivery ? "" : "delivery: disabled", "OK");
            case "flush" -> List.of("flushed: deferred mail is being retried now", "OK");
            case "delete" -> List.of("deleted " + KNOWN, "OK");
            default -> List.of("ERR unknown request '" + verb + "' (list, show ID, stats, flush, delete ID)");
        };
    }

    /** Each expected line (after the first, which must be first) appears in order; the last line matches exactly. */
    private static void assertAnswers(List<String> got, List<String> expected, String request) {
        String what = "answer to '" + escape(request) + "'";
        assertThat(got).as(what).isNotEmpty();
        assertThat(got.getLast()).as(what).isEqualTo(expected.getLast());
        long statusLines = got.stream().filter(l -> l.equals("OK") || l.startsWith("ERR ")).count();
        assertThat(statusLines).as(what + ": one status line").isEqualTo(1);
        if (expected.size() > 1) {
            assertThat(got.getFirst()).as(what).startsWith(expected.getFirst());
            int at = 0;
            for (String e : expected) {
                while (at < got.size() && !got.get(at).startsWith(e)) {
                    at++;
                }
                assertThat(at).as(what + ": a line starting '" + e + "' in " + got).isLessThan(got.size());
            }
        }
    }

    @Property(tries = 600)
    void everyRequestGetsTheModelsAnswer(@ForAll("requests") String request, @ForAll("lineEnds") String end,
                                         @ForAll boolean hasDelivery) throws Exception {
        byte[] bytes = (request + end).getBytes(StandardCharsets.UTF_8);
        List<String> got = exchange(hasDelivery ? withDeliveryDir : withoutDeliveryDir, bytes);
        assertAnswers(got, expected(firstLine(request), hasDelivery), request + end);
    }

    private static String firstLine(String s) {
        int cut = s.length();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n' || s.charAt(i) == '\r') {
                cut = i;
                break;
            }
        }
        return s.substring(0, cut);
    }

    @Provide
    Arbitrary<byte[]> hostileBytes() {
        Arbitrary<Byte> octet = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.bytes()),
                Tuple.of(2, Arbitraries.of((byte) '\r', (byte) '\n', (byte) ' ', (byte) 0, (byte) 0xC3, (byte) 0xFF,
                        (byte) 0xE2, (byte) 0x80)),
                Tuple.of(2, Arbitraries.of((byte) 'l', (byte) 'i', (byte) 's', (byte) 't', (byte) 'h', (byte) 'o',
                        (byte) 'w')));
        Arbitrary<byte[]> small = octet.list().ofMaxSize(64).map(AdminServerProperties::bytes);
        Arbitrary<byte[]> long_ = Combinators.combine(Arbitraries.of("show ", "delete ", "x", ""),
                Arbitraries.integers().between(1_000, 200_000), Arbitraries.of("\n", "")).as((v, n, e) ->
                (v + "A".repeat(n) + e).getBytes(StandardCharsets.US_ASCII));
        return Arbitraries.frequencyOf(Tuple.of(10, small), Tuple.of(1, long_));
    }

    private static byte[] bytes(List<Byte> l) {
        byte[] b = new byte[l.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = l.get(i);
        }
        return b;
    }

    /** Any octets: an answer within 5 s whose last line is OK or ERR, and the server still serves afterwards. */
    @Property(tries = 600)
    void hostileOctetsGetAnAnswer(@ForAll("hostileBytes") byte[] request, @ForAll boolean hasDelivery)
            throws Exception {
        Path d = hasDelivery ? withDeliveryDir : withoutDeliveryDir;
        List<String> got = exchange(d, request);
        String what = "answer to " + escape(new String(request, StandardCharsets.ISO_8859_1));
        assertThat(got).as(what).isNotEmpty();
        assertThat(got.getLast()).as(what).matches("OK|ERR .+");
        // the model again, on the text the server decodes (UTF-8, malformed input replaced)
        String decoded = new String(request, StandardCharsets.UTF_8);
        assertAnswers(got, expected(firstLine(decoded), hasDelivery), decoded);
    }

    /** Found in a soak run: a request of U+2029 (a Unicode paragraph separator) was echoed raw in the ERR line. */
    @Example
    void anErrorQuotesTheRequestInPrintableAsciiOnly() throws Exception {
        List<String> got = exchange(withDeliveryDir, "\u2029\u0085x\u007f\n".getBytes(StandardCharsets.UTF_8));
        assertThat(got).containsExactly("ERR unknown request '??x?' (list, show ID, stats, flush, delete ID)");
        assertThat(exchange(withDeliveryDir, "show \u00e9\n".getBytes(StandardCharsets.UTF_8)).getLast())
                .isEqualTo("ERR a queue id has 16 hex digits: ?");
    }

    @Example
    void theServerStillAnswersAfterHostileRequests() throws Exception {
        assertThat(exchange(withDeliveryDir, "stats\n".getBytes(StandardCharsets.US_ASCII)).getLast()).isEqualTo("OK");
        assertThat(exchange(withoutDeliveryDir, "list\n".getBytes(StandardCharsets.US_ASCII)).getLast())
                .isEqualTo("OK");
    }

    /**
     * A client that connects and sends part of a request, then neither finishes nor closes (a stuck or hostile
     * local process) is dropped after a while; otherwise each one holds a request thread and a file descriptor of
     * the relay forever.
     */
    @Example
    void aStalledClientIsDropped() throws Exception {
        try (SocketChannel ch = SocketChannel.open(AdminServer.address(
                withoutDeliveryDir.resolve(AdminServer.SOCKET_NAME)))) {
            ch.write(ByteBuffer.wrap("lis".getBytes(StandardCharsets.US_ASCII)));
            CompletableFuture<Integer> closed = CompletableFuture.supplyAsync(() -> {
                try {
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    int n;
                    while ((n = ch.read(b.clear())) >= 0) {
                        assertThat(n).isGreaterThanOrEqualTo(0);
                    }
                    return n;
                } catch (IOException e) {
                    return -1;
                }
            }, r -> Thread.ofVirtual().start(r));
            assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(-1);
        }
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : (s.length() > 200 ? s.substring(0, 200) + "...(" + s.length() + ")" : s).toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }

    /** A journal holding one message, {@link #KNOWN}, to Alice at example.org. */
    private static final class StubJournal implements Journal {
        private static final byte[] BODY = ("Received: from helo.example ([192.0.2.1])\r\n\tby tern.example (Tern) with"
                + " ESMTP id " + KNOWN + "\r\nSubject: hello\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII);
        private final QueuedMessage message = new QueuedMessage(new EnvelopeRecord(KNOWN_ID,
                System.currentTimeMillis(), "192.0.2.1", "helo.example", "sender@example.net", -1, 0, false, 0, "",
                List.of(new EnvelopeRecord.Recipient("alice@example.org", 0, ""))), BODY.length,
                Arrays.asList((OutcomeKind) null), 0, 0, "");
        private final List<Outcome> recorded = new ArrayList<>();

        @Override
        public void commit(Envelope envelope, MessageBody body) {
            throw new UnsupportedOperationException();
        }

        @Override
        public synchronized void record(List<Outcome> outcomes) {
            recorded.addAll(outcomes);
        }

        @Override
        public List<QueuedMessage> pending() {
            return List.of(message);
        }

        @Override
        public Optional<QueuedMessage> find(long queueId) {
            return queueId == KNOWN_ID ? Optional.of(message) : Optional.empty();
        }

        @Override
        public void onCommitted(Consumer<QueuedMessage> listener) {
        }

        @Override
        public void readBody(long queueId, Consumer<ByteBuffer> consumer) {
            for (int i = 0; i < BODY.length; i += 7) {
                consumer.accept(ByteBuffer.wrap(BODY, i, Math.min(7, BODY.length - i)).slice().asReadOnlyBuffer());
            }
        }

        @Override
        public JournalStats stats() {
            return new JournalStats(1, 1, 0, 1);
        }

        @Override
        public void close() {
        }
    }
}

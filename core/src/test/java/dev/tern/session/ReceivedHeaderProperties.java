package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tern.buffer.BufferPool;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import jakarta.mail.internet.HeaderTokenizer;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MailDateFormat;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Disabled;

/**
 * The {@code Received:} trace header ({@link ReceivedHeader}, RFC 5321 4.4, RFC 5322 3.6.7) for generated clients:
 * EHLO arguments of every shape the command parser lets through (domains, address literals, and any octets from 0x21
 * to 0xFF but DEL, up to 255 of them; the header is also given control characters, spaces and parentheses, which it
 * must neutralise), IPv4 and IPv6 peers as {@link ClientInfo} prints them, the protocols the session names (SMTP,
 * ESMTP, UTF8SMTP), any queue id, one recipient or several, and any instant from 1970 to 9999.
 *
 * <p>The header must read back with Angus Mail, lex as RFC 5322 (balanced comments, quoted strings and domain
 * literals, no stray specials, exactly one ";" before the date-time), carry a date-time that parses back (RFC 5322
 * 3.3, strict) to the second it was written for, keep Tern's own clauses (the client's address literal, by, with, id,
 * for) intact whatever the client sent, fold into lines of at most 998 octets with CRLF only, and hold 8-bit text only
 * in a UTF8SMTP message, as valid UTF-8 (RFC 6532 3.2). Properties for the client text that still breaks this are kept
 * but disabled: each is a bug, described there. jqwik prints the seed of a failure.
 */
class ReceivedHeaderProperties {
    private static final byte[] HOST = "mx1.tern.example".getBytes(StandardCharsets.US_ASCII);
    private static final BufferPool POOL = new BufferPool(1024, 8, 8);
    private static final Pattern QUEUE_ID = Pattern.compile("[0-9A-F]{16}");
    /** RFC 5321 4.1.3 IPv6-addr, in the forms {@code InetAddress.getHostAddress} prints (full, or compressed). */
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){7}"
            + "|([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){0,5})?::([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){0,5})?");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d"
            + "|1\\d\\d|[1-9]?\\d)){3}");

    /** One header to write. {@code rcpt} is null for a message with several recipients. */
    record Input(byte[] helo, InetAddress peer, String protocol, long queueId, byte[] rcpt, long atMillis) {
        @Override
        public String toString() {
            return "Input[helo=" + show(helo) + ", peer=" + peer + ", protocol=" + protocol + ", queueId="
                    + QueueId.format(queueId) + ", rcpt=" + (rcpt == null ? null : show(rcpt)) + ", at=" + atMillis
                    + "]";
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Properties

    @Property(tries = 1000)
    void headerIsValidForLegalAndControlLadenClients(@ForAll("plainInputs") Input in) throws Exception {
        check(in);
    }

    @Property(tries = 300)
    void ehloSpecialsDoNotBreakTheHeader(@ForAll("specialInputs") Input in) throws Exception {
        check(in);
    }

    @Property(tries = 300)
    void eightBitEhloOnlyInUtf8Messages(@ForAll("eightBitInputs") Input in) throws Exception {
        check(in);
    }

    @Property(tries = 100)
    void scopedIpv6PeersGiveAValidAddressLiteral(@ForAll("scopedInputs") Input in) throws Exception {
        check(in);
    }

    @Example
    void quoteInEhlo() throws Exception {
        check(new Input(ascii("a\"b"), InetAddress.getByName("192.0.2.1"), "ESMTP", 1L, null, 1_795_624_800_000L));
    }

    @Example
    void semicolonInEhlo() throws Exception {
        check(new Input(ascii("a;b"), InetAddress.getByName("192.0.2.1"), "ESMTP", 1L, null, 1_795_624_800_000L));
    }

    @Example
    void utf8EhloInAnEsmtpMessage() throws Exception {
        check(new Input("caf\u00e9.example".getBytes(StandardCharsets.UTF_8), InetAddress.getByName("192.0.2.1"),
                "ESMTP", 1L, null, 1_795_624_800_000L));
    }

    @Example
    void exampleFromTheJavadoc() throws Exception {
        Input in = new Input(ascii("helo.example"), InetAddress.getByName("192.0.2.1"), "ESMTP", 0x0193A4F2C81B0007L,
                ascii("rcpt@example.org"), 1_795_624_800_000L);
        String h = new String(write(in), StandardCharsets.US_ASCII);
        assertThat(h).isEqualTo("Received: from helo.example ([192.0.2.1])\r\n\tby mx1.tern.example (Tern) with ESMTP"
                + " id 0193A4F2C81B0007\r\n\tfor <rcpt@example.org>; Wed, 25 Nov 2026 16:40:00 +0000\r\n");
        check(in);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Writing and checking

    private static byte[] write(Input in) {
        ClientInfo client = ClientInfo.of(new InetSocketAddress(in.peer(), 40000), List.of());
        boolean ipv6 = client.address() instanceof Inet6Address; // as SessionEngine decides it
        MessageBody body = new MessageBody(POOL);
        try {
            ReceivedHeader header = new ReceivedHeader(HOST);
            byte[] rcpt = in.rcpt();
            boolean ok = header.write(body, in.helo(), client.addressText(), ipv6, ascii(in.protocol()), in.queueId(),
                    rcpt, rcpt == null ? 0 : rcpt.length, in.atMillis());
            assertThat(ok).isTrue();
            body.seal();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (ByteBuffer b : body.chunks()) {
                byte[] a = new byte[b.remaining()];
                b.duplicate().get(a);
                out.writeBytes(a);
            }
            return out.toByteArray();
        } finally {
            body.release();
            assertThat(POOL.outstanding()).as("buffers returned").isZero();
        }
    }

    private static void check(Input in) throws Exception {
        byte[] raw = write(in);
        String where = "for " + in + "\nheader: " + show(raw);
        boolean utf8Message = in.protocol().equals("UTF8SMTP");

        // RFC 5322 2.1.1, 2.2, 2.2.3: CRLF only, each line at most 998 octets, continuation lines start with WSP;
        // no control characters but the HTAB of folding; 8-bit only as UTF-8 in a UTF8SMTP message (RFC 6532 3.2).
        assertThat(new String(raw, 0, Math.min(10, raw.length), StandardCharsets.ISO_8859_1)).isEqualTo("Received: ");
        int lineStart = 0;
        boolean eightBit = false;
        for (int i = 0; i < raw.length; i++) {
            int b = raw[i] & 0xff;
            eightBit |= b >= 0x80;
            if (b == '\r') {
                assertThat(i + 1 < raw.length && raw[i + 1] == '\n').as("bare CR at %d %s", i, where).isTrue();
            } else if (b == '\n') {
                assertThat(i > 0 && raw[i - 1] == '\r').as("bare LF at %d %s", i, where).isTrue();
                assertThat(i - 1 - lineStart).as("line length %s", where).isLessThanOrEqualTo(998);
                lineStart = i + 1;
                if (i + 1 < raw.length) {
                    assertThat(raw[i + 1] == ' ' || raw[i + 1] == '\t').as("folded line at %d %s", i + 1, where)
                            .isTrue();
                }
            } else {
                assertThat(b >= 0x20 && b != 0x7f || b == '\t').as("control 0x%02x at %d %s", b, i, where).isTrue();
            }
        }
        assertThat(lineStart).as("ends with CRLF %s", where).isEqualTo(raw.length);
        if (eightBit) {
            assertThat(utf8Message).as("8-bit text in a message that is not SMTPUTF8 %s", where).isTrue();
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
            } catch (CharacterCodingException e) {
                fail("not UTF-8 " + where);
            }
        }

        // Angus Mail reads it as one Received field.
        String text = new String(raw, eightBit ? StandardCharsets.UTF_8 : StandardCharsets.US_ASCII);
        InternetHeaders headers = new InternetHeaders(new ByteArrayInputStream(
                (text + "\r\n").getBytes(StandardCharsets.UTF_8)), true);
        String[] values = headers.getHeader("Received");
        assertThat(values).as(where).hasSize(1);
        String value = MimeUtility.unfold(values[0]);

        // Angus's RFC 822 tokenizer accepts it (no unbalanced comment or quoted string).
        HeaderTokenizer tokenizer = new HeaderTokenizer(value, HeaderTokenizer.RFC822, false);
        HeaderTokenizer.Token token;
        do {
            token = tokenizer.next(); // throws ParseException on an unbalanced comment or quoted string
        } while (token.getType() != HeaderTokenizer.Token.EOF);

        // RFC 5322 3.6.7: received = *received-token ";" date-time; lexed strictly.
        List<Lexeme> lexemes = lex(value, utf8Message, where);
        int semicolons = 0;
        int semicolonAt = -1;
        for (int i = 0; i < lexemes.size(); i++) {
            if (lexemes.get(i).is(Kind.SPECIAL, ";")) {
                semicolons++;
                semicolonAt = i;
            }
        }
        assertThat(semicolons).as("one ';' before the date-time %s", where).isEqualTo(1);
        int depth = 0;
        for (Lexeme l : lexemes.subList(0, semicolonAt)) {
            if (l.is(Kind.SPECIAL, "<")) {
                depth++;
                assertThat(depth).as("nested '<' %s", where).isEqualTo(1);
            } else if (l.is(Kind.SPECIAL, ">")) {
                depth--;
                assertThat(depth).as("unbalanced '>' %s", where).isZero();
            }
        }
        assertThat(depth).as("unclosed '<' %s", where).isZero();

        // RFC 5322 3.3: the date-time after the ';' parses back, strictly, to the second written.
        String date = value.substring(value.lastIndexOf(';') + 1).trim();
        long second = Math.floorDiv(in.atMillis(), 1000);
        MailDateFormat strict = new MailDateFormat();
        strict.setLenient(false);
        assertThat(strict.parse(date).toInstant().getEpochSecond()).as("date %s", where).isEqualTo(second);
        assertThat(ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond()).isEqualTo(second);

        // RFC 5321 4.4: Tern's own clauses survive whatever the client sent.
        ClientInfo client = ClientInfo.of(new InetSocketAddress(in.peer(), 40000), List.of());
        String address = new String(client.addressText(), StandardCharsets.US_ASCII);
        boolean v6 = in.peer() instanceof Inet6Address;
        assertThat((v6 ? IPV6 : IPV4).matcher(address).matches()).as("RFC 5321 4.1.3 address literal %s", where)
                .isTrue();
        int comment = -1;
        for (int i = 0; i < lexemes.size(); i++) {
            if (lexemes.get(i).kind() == Kind.COMMENT) {
                comment = i;
                break;
            }
        }
        assertThat(comment).as("a comment with the client's address %s", where).isGreaterThan(1);
        assertThat(lexemes.getFirst()).isEqualTo(new Lexeme(Kind.ATOM, "from"));
        assertThat(value.substring(value.indexOf("from ") + 5, value.indexOf(" ([")))
                .as("the EHLO argument, neutralised %s", where).isEqualTo(heloShown(in.helo()));
        List<Lexeme> expected = new ArrayList<>(List.of(
                new Lexeme(Kind.COMMENT, "[" + (v6 ? "IPv6:" : "") + address + "]"),
                new Lexeme(Kind.ATOM, "by"), new Lexeme(Kind.ATOM, "mx1.tern.example"),
                new Lexeme(Kind.COMMENT, "Tern"), new Lexeme(Kind.ATOM, "with"), new Lexeme(Kind.ATOM, in.protocol()),
                new Lexeme(Kind.ATOM, "id"), new Lexeme(Kind.ATOM, QueueId.format(in.queueId()))));
        assertThat(in.protocol()).isIn("SMTP", "ESMTP", "UTF8SMTP"); // RFC 3848, RFC 6531 3.7.3 registered types
        assertThat(QUEUE_ID.matcher(QueueId.format(in.queueId())).matches()).isTrue();
        List<Lexeme> tail = lexemes.subList(comment, semicolonAt);
        if (in.rcpt() == null) {
            assertThat(tail).as(where).isEqualTo(expected);
        } else {
            assertThat(tail.subList(0, expected.size())).as(where).isEqualTo(expected);
            assertThat(tail.get(expected.size())).isEqualTo(new Lexeme(Kind.ATOM, "for"));
            assertThat(tail.get(expected.size() + 1)).isEqualTo(new Lexeme(Kind.SPECIAL, "<"));
            assertThat(tail.getLast()).isEqualTo(new Lexeme(Kind.SPECIAL, ">"));
            assertThat(value.substring(value.indexOf("for <") + 5, value.lastIndexOf(">;")))
                    .as("recipient %s", where).isEqualTo(neutralised(in.rcpt()));
        }
    }

    /**
     * What the header may show of the EHLO argument: a domain's letters, digits, '-', '.' and '_' as sent, the
     * brackets and colons of an address literal too; every other octet as '?'.
     */
    private static String heloShown(byte[] b) {
        String sent = new String(b, StandardCharsets.ISO_8859_1);
        boolean literal = sent.matches("\\[[0-9A-Fa-fIPv.:]+\\]");
        StringBuilder out = new StringBuilder();
        for (char c : sent.toCharArray()) {
            boolean plain = c < 0x80 && (Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_')
                    || literal && (c == '[' || c == ']' || c == ':');
            out.append(plain ? c : '?');
        }
        return out.toString();
    }

    /** What the header may show of client text: CTLs, SP, DEL and parentheses as '?', the rest as sent. */
    private static String neutralised(byte[] b) {
        byte[] out = b.clone();
        for (int i = 0; i < out.length; i++) {
            int v = out[i] & 0xff;
            if (v < 0x21 || v == 0x7f || v == '(' || v == ')') {
                out[i] = '?';
            }
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    enum Kind { ATOM, QUOTED, LITERAL, COMMENT, SPECIAL }

    record Lexeme(Kind kind, String text) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }
    }

    /**
     * RFC 5322 3.2 lexical tokens of an unfolded field body: runs of atext and '.', quoted strings, domain literals,
     * (nested) comments with quoted-pairs, and the specials '<', '>', '@', ';'. Anything else fails: a stray ')', ']'
     * or '\', a ',' or ':' outside a literal, an unterminated quoted string, literal or comment, a control character,
     * or a non-ASCII character outside a UTF8SMTP message (RFC 6532 3.2 adds UTF8-non-ascii to atext, qtext, ctext and
     * dtext).
     */
    static List<Lexeme> lex(String s, boolean utf8, String where) {
        List<Lexeme> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                i++;
            } else if (c == '(') {
                int depth = 0;
                int start = i + 1;
                do {
                    assertThat(i).as("unterminated comment %s", where).isLessThan(n);
                    char d = s.charAt(i);
                    if (d == '\\') {
                        i++;
                    } else if (d == '(') {
                        depth++;
                    } else if (d == ')') {
                        depth--;
                    } else {
                        text(d, utf8, where);
                    }
                    i++;
                } while (depth > 0);
                out.add(new Lexeme(Kind.COMMENT, s.substring(start, i - 1)));
            } else if (c == '"') {
                int start = i++;
                while (true) {
                    assertThat(i).as("unterminated quoted string %s", where).isLessThan(n);
                    char d = s.charAt(i++);
                    if (d == '"') {
                        break;
                    }
                    if (d == '\\') {
                        i++;
                    } else {
                        text(d, utf8, where);
                    }
                }
                out.add(new Lexeme(Kind.QUOTED, s.substring(start, i)));
            } else if (c == '[') {
                int start = i++;
                while (true) {
                    assertThat(i).as("unterminated domain literal %s", where).isLessThan(n);
                    char d = s.charAt(i++);
                    if (d == ']') {
                        break;
                    }
                    assertThat(d != '[' && d != '\\').as("'%s' in a domain literal %s", d, where).isTrue();
                    text(d, utf8, where);
                }
                out.add(new Lexeme(Kind.LITERAL, s.substring(start, i)));
            } else if (c == '<' || c == '>' || c == '@' || c == ';') {
                out.add(new Lexeme(Kind.SPECIAL, String.valueOf(c)));
                i++;
            } else if (atext(c, utf8) || c == '.') {
                int start = i;
                while (i < n && (atext(s.charAt(i), utf8) || s.charAt(i) == '.')) {
                    i++;
                }
                out.add(new Lexeme(Kind.ATOM, s.substring(start, i)));
            } else if (out.stream().anyMatch(l -> l.is(Kind.SPECIAL, ";"))) {
                i++; // the date-time after ';' is checked by the date parsers (it has ':' and ',')
            } else {
                fail("'" + c + "' (U+%04X) outside a quoted string, literal or comment %s".formatted((int) c, where));
            }
        }
        return out;
    }

    private static void text(char c, boolean utf8, String where) {
        assertThat(c >= 0x21 && c != 0x7f && (c < 0x80 || utf8) || c == ' ' || c == '\t')
                .as("character U+%04X %s", (int) c, where).isTrue();
    }

    private static boolean atext(char c, boolean utf8) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0 || utf8 && c >= 0x80;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Generators

    @Provide
    Arbitrary<Input> plainInputs() {
        return inputs(Arbitraries.oneOf(legalHelos(), hostile("!#$%&'*+-/=?^_`{|}~.abcXYZ019 \t\r\n\u0000\u001b"
                + "\u007f()", false)), plainPeers());
    }

    @Provide
    Arbitrary<Input> specialInputs() {
        return inputs(hostile("abc.-019\"\\;[]<>,:@()", false), plainPeers());
    }

    @Provide
    Arbitrary<Input> eightBitInputs() {
        return inputs(hostile("abc.-019", true), plainPeers());
    }

    @Provide
    Arbitrary<Input> scopedInputs() {
        Arbitrary<InetAddress> scoped = Arbitraries.integers().between(1, 9).map(scope -> {
            try {
                byte[] a = InetAddress.getByName("fe80::1").getAddress();
                return Inet6Address.getByAddress(null, a, scope);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        });
        return inputs(legalHelos(), scoped);
    }

    private static Arbitrary<Input> inputs(Arbitrary<byte[]> helo, Arbitrary<InetAddress> peer) {
        Arbitrary<String> protocol = Arbitraries.of("SMTP", "ESMTP", "UTF8SMTP");
        Arbitrary<Long> id = Arbitraries.longs().between(Long.MIN_VALUE, Long.MAX_VALUE);
        Arbitrary<Long> at = Arbitraries.longs().between(0, 253_402_300_799_999L); // to 9999-12-31T23:59:59.999Z
        return Combinators.combine(helo, peer, protocol, id, at).flatAs((h, p, pr, i, t) ->
                recipients(pr.equals("UTF8SMTP")).injectNull(0.3).map(r -> new Input(h, p, pr, i, r, t)));
    }

    /** EHLO arguments RFC 5321 4.1.1.1 allows: domains and address literals. */
    private static Arbitrary<byte[]> legalHelos() {
        Arbitrary<String> label = Arbitraries.strings().withChars("abcxyzABC0189-").ofMinLength(1).ofMaxLength(63)
                .filter(l -> !l.startsWith("-") && !l.endsWith("-"));
        Arbitrary<String> domain = label.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        return Arbitraries.oneOf(domain, Arbitraries.of("[192.0.2.1]", "[IPv6:2001:db8::1]", "[IPv6:::1]",
                "[IPv6:::ffff:192.0.2.1]", "localhost", "[127.0.0.1]")).map(ReceivedHeaderProperties::ascii);
    }

    /** Whatever a client may send: {@code chars}, and with {@code eightBit} any octet 0x80-0xFF; 1-255 octets. */
    private static Arbitrary<byte[]> hostile(String chars, boolean eightBit) {
        Arbitrary<Byte> ascii = Arbitraries.of(ascii(chars).length == 0 ? new Byte[] {'a'} : boxed(ascii(chars)));
        Arbitrary<Byte> octet = eightBit
                ? Arbitraries.oneOf(ascii, Arbitraries.integers().between(0x80, 0xff).map(v -> (byte) (int) v))
                : ascii;
        return Arbitraries.frequencyOf(
                Tuple.of(4, octet.list().ofMinSize(1).ofMaxSize(40)),
                Tuple.of(1, octet.list().ofMinSize(200).ofMaxSize(255)))
                .map(l -> {
                    byte[] b = new byte[l.size()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = l.get(i);
                    }
                    return b;
                });
    }

    private static Byte[] boxed(byte[] b) {
        Byte[] out = new Byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i];
        }
        return out;
    }

    private static Arbitrary<InetAddress> plainPeers() {
        Arbitrary<InetAddress> v4 = Arbitraries.integers().between(0, Integer.MAX_VALUE).map(v -> address(
                new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) (int) v}));
        Arbitrary<InetAddress> v6 = Arbitraries.bytes().array(byte[].class).ofSize(16).map(b -> {
            b[0] = (byte) (b[0] == (byte) 0xfe ? 0x20 : b[0]); // not link-local: see scopedInputs
            return address(b);
        });
        return Arbitraries.oneOf(v4, v6, Arbitraries.of(address(new byte[16]), address(new byte[] {127, 0, 0, 1})));
    }

    private static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Forward-paths the session accepts: dot-atoms, quoted local parts, address literals; UTF-8 under SMTPUTF8. */
    private static Arbitrary<byte[]> recipients(boolean utf8) {
        Arbitrary<String> dotAtom = Arbitraries.strings().withChars("abcXYZ019!#$%&'*+/=?^_`{|}~-").ofMinLength(1)
                .ofMaxLength(20);
        Arbitrary<String> quoted = Arbitraries.strings().withChars("ab .,:;<>@()[]\"\\").ofMaxLength(20)
                .map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        Arbitrary<String> local = utf8 ? Arbitraries.oneOf(dotAtom, quoted, Arbitraries.of("jos\u00e9", "\u7528\u6237"))
                : Arbitraries.oneOf(dotAtom, quoted);
        Arbitrary<String> domain = Arbitraries.of("example.org", "[192.0.2.7]", "[IPv6:2001:db8::7]", "a.b.c");
        return Combinators.combine(local, domain).as((l, d) -> (l + "@" + d).getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String show(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format(Locale.ROOT, "\\x%02x", c));
        }
        return sb.toString();
    }
}

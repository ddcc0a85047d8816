package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The delivery side's reply parsing: {@link ReplyReader#read} (RFC 5321 4.2 replies from a next hop, which is not
 * trusted) and {@link EhloCapabilities#parse} (RFC 5321 4.1.1.1 EHLO keywords). Replies written out and read back,
 * whatever the TCP segmentation, give the same code and lines; hostile bytes end in {@link IOException} and nothing
 * else, within the line and line-count limits; capabilities agree with a keyword model. jqwik prints the seed.
 */
class ReplyReaderProperties {

    /** One reply as a next hop would mean it. */
    record Written(int code, List<String> lines, boolean bareLf, boolean spaceWhenEmpty) {
    }

    @Provide
    Arbitrary<Written> replies() {
        Arbitrary<Integer> code = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.of(220, 221, 250, 251, 354, 421, 450, 451, 452, 550, 552, 554)),
                Tuple.of(1, Arbitraries.integers().between(200, 599)));
        Arbitrary<String> text = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of("2.0.0 Ok", "2.1.0 Ok", "5.1.1 <x@y> unknown", "4.7.0 try later",
                        "PIPELINING", "SIZE 10240000", "mx.example ESMTP", "", "5.1", "2.0.0", "5.5.5.5 x")),
                Tuple.of(3, Arbitraries.strings().withChars("abcXYZ 0123456789.-\t\r:<>@\u00e9\u4f8b\u0000")
                        .ofMaxLength(40).map(s -> s.endsWith("\r") ? s + "x" : s)));
        return Combinators.combine(code, text.list().ofMinSize(1).ofMaxSize(6), Arbitraries.of(false, false, true),
                Arbitraries.of(true, false)).as(Written::new);
    }

    @Provide
    Arbitrary<List<Written>> replySequences() {
        return replies().list().ofMinSize(1).ofMaxSize(6);
    }

    private static byte[] wire(List<Written> replies) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Written r : replies) {
            for (int i = 0; i < r.lines().size(); i++) {
                boolean last = i == r.lines().size() - 1;
                String t = r.lines().get(i);
                String code = String.format(Locale.ROOT, "%03d", r.code());
                String line = t.isEmpty() && last && !r.spaceWhenEmpty() ? code : code + (last ? " " : "-") + t;
                out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
                out.writeBytes(r.bareLf() ? new byte[] {'\n'} : new byte[] {'\r', '\n'});
            }
        }
        return out.toByteArray();
    }

    /** Hands out the bytes in pieces of 1 to {@code maxPiece} octets, as TCP may; then end of stream. */
    private static final class Pieces extends InputStream {
        private final byte[] bytes;
        private final Random random;
        private final int maxPiece;
        private int at;

        Pieces(byte[] bytes, long seed, int maxPiece) {
            this.bytes = bytes;
            this.random = new Random(seed);
            this.maxPiece = maxPiece;
        }

        @Override
        public int read() {
            return at < bytes.length ? bytes[at++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at == bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, bytes.length - at), 1 + random.nextInt(maxPiece));
            System.arraycopy(bytes, at, b, off, n);
            at += n;
            return n;
        }
    }

    @Property(tries = 1500)
    void repliesReadBackAsWrittenWhateverTheSegmentation(@ForAll("replySequences") List<Written> replies,
                                                         @ForAll long seed,
                                                         @ForAll @IntRange(min = 1, max = 9000) int maxPiece)
            throws IOException {
        ReplyReader reader = new ReplyReader(new Pieces(wire(replies), seed, maxPiece));
        for (Written w : replies) {
            SmtpReply r = reader.read();
            assertThat(r.code()).isEqualTo(w.code());
            assertThat(r.lines()).isEqualTo(w.lines());
            assertThat(r.enhanced()).isEqualTo(ReplyReader.enhanced(w.code(), w.lines().getFirst()));
        }
        assertThat(reader.hasBuffered()).isFalse();
        assertThatThrownBy(reader::read).isInstanceOf(IOException.class);
    }

    @Provide
    Arbitrary<byte[]> hostile() {
        Arbitrary<Byte> octet = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of((byte) '2', (byte) '5', (byte) '0', (byte) '4')),
                Tuple.of(3, Arbitraries.of((byte) '-', (byte) ' ', (byte) '\r', (byte) '\n')),
                Tuple.of(1, Arbitraries.bytes()));
        Arbitrary<byte[]> noise = octet.list().ofMaxSize(300).map(ReplyReaderProperties::toArray);
        // Long runs: a line far beyond the limit, or a reply of very many continuation lines.
        Arbitrary<byte[]> longLine = Arbitraries.integers().between(ReplyReader.MAX_LINE - 3, ReplyReader.MAX_LINE + 3)
                .map(n -> ("250 " + "x".repeat(n - 4) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        Arbitrary<byte[]> manyLines = Arbitraries.integers().between(ReplyReader.MAX_LINES - 2,
                ReplyReader.MAX_LINES + 2).map(n -> ("250-x\r\n".repeat(n - 1) + "250 x\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return Arbitraries.frequencyOf(Tuple.of(8, noise), Tuple.of(1, longLine), Tuple.of(1, manyLines));
    }

    /**
     * Whatever a hostile next hop sends, reading ends in {@link IOException} (at the latest at end of stream), never
     * another exception, and every reply returned respects the limits: three digits, at most {@link
     * ReplyReader#MAX_LINES} lines of at most {@link ReplyReader#MAX_LINE} octets.
     */
    @Property(tries = 2000)
    void hostileBytesEndInIOExceptionWithinTheLimits(@ForAll("hostile") byte[] input, @ForAll long seed,
                                                     @ForAll @IntRange(min = 1, max = 64) int maxPiece) {
        ReplyReader reader = new ReplyReader(new Pieces(input, seed, maxPiece));
        int replies = 0;
        while (true) {
            SmtpReply r;
            try {
                r = reader.read();
            } catch (IOException expected) {
                break;
            }
            replies++;
            assertThat(replies).as("each reply consumes at least one line").isLessThanOrEqualTo(input.length);
            assertThat(r.code()).isBetween(200, 599);
            assertThat(r.lines()).hasSizeBetween(1, ReplyReader.MAX_LINES);
            for (String line : r.lines()) {
                assertThat(line.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(3 * ReplyReader.MAX_LINE);
                assertThat(line).doesNotContain("\n");
            }
            // RFC 2034: an enhanced code is only taken when its class is the reply's first digit.
            assertThat(r.enhanced()).matches("|" + r.code() / 100 + "\\.[0-9]{1,3}\\.[0-9]{1,3}");
        }
    }

    /**
     * RFC 5321 4.2.1: replies are 2yz-5yz. A code outside them is a broken peer and ends in {@link IOException}
     * (delivery's temporary failure), never in a reply a caller could take for a 5xx and bounce on.
     */
    @Property(tries = 500)
    void codesOutsideTwoToFiveHundredsAreRefused(@ForAll @IntRange(max = 999) int code, @ForAll boolean multiLine) {
        String c = String.format(Locale.ROOT, "%03d", code);
        String wire = (multiLine ? c + "-first\r\n" : "") + c + " 5.1.1 text\r\n";
        ReplyReader reader = new ReplyReader(new Pieces(wire.getBytes(StandardCharsets.US_ASCII), code, 7));
        if (code >= 200 && code < 600) {
            assertThat(assertDoesNotThrow(reader::read).code()).isEqualTo(code);
        } else {
            assertThatThrownBy(reader::read).isInstanceOf(IOException.class).hasMessageContaining("outside 2xx-5xx");
        }
    }

    /** The line-count limit exactly: a reply of {@code MAX_LINES} lines is read, one more line is refused. */
    @Property(tries = 100)
    void lineCountLimitIsExact(@ForAll @IntRange(min = -3, max = 3) int delta, @ForAll boolean bareLf)
            throws IOException {
        int n = ReplyReader.MAX_LINES + delta;
        String eol = bareLf ? "\n" : "\r\n";
        byte[] input = (("250-x" + eol).repeat(n - 1) + "250 x" + eol).getBytes(StandardCharsets.US_ASCII);
        ReplyReader reader = new ReplyReader(new Pieces(input, delta, 1000));
        if (delta <= 0) {
            assertThat(reader.read().lines()).hasSize(n);
        } else {
            assertThatThrownBy(reader::read).isInstanceOf(IOException.class).hasMessageContaining("lines");
        }
    }

    /**
     * The line-length limit exactly: a line of {@code MAX_LINE} octets, line ending excluded, is read whichever line
     * ending the peer uses; one octet more is refused.
     */
    @Property(tries = 100)
    void lineLengthLimitIsExactWhateverTheLineEnding(@ForAll @IntRange(min = -3, max = 3) int delta,
                                                     @ForAll boolean bareLf) throws IOException {
        String line = "250 " + "x".repeat(ReplyReader.MAX_LINE + delta - 4);
        byte[] input = (line + (bareLf ? "\n" : "\r\n")).getBytes(StandardCharsets.US_ASCII);
        ReplyReader reader = new ReplyReader(new Pieces(input, delta, 1000));
        if (delta <= 0) {
            assertThat(reader.read().lines()).containsExactly(line.substring(4));
        } else {
            assertThatThrownBy(reader::read).isInstanceOf(IOException.class).hasMessageContaining("longer than");
        }
    }

    // ---------------------------------------------------------------- EHLO keywords

    @Provide
    Arbitrary<List<String>> ehloLines() {
        Arbitrary<String> keyword = Arbitraries.of("PIPELINING", "8BITMIME", "CHUNKING", "DSN", "SMTPUTF8", "SIZE",
                "STARTTLS", "ENHANCEDSTATUSCODES", "AUTH", "X-PIPELINING", "SIZE10", "DSNX");
        Arbitrary<String> arg = Arbitraries.of("", " 10240000", " 0", " -5", " 99999999999999999999", " abc",
                " 1 2", "  52428800 ", " PLAIN LOGIN");
        Arbitrary<String> line = Combinators.combine(keyword, arg, Arbitraries.of("", " ", "\t"),
                        Arbitraries.longs())
                .as((k, a, pad, caseSeed) -> pad + randomCase(k, caseSeed) + a);
        return line.list().ofMaxSize(8);
    }

    private static String randomCase(String s, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(r.nextBoolean() ? Character.toLowerCase(c) : c);
        }
        return sb.toString();
    }

    /** RFC 5321 4.1.1.1: ehlo-line = ehlo-keyword *( SP ehlo-param ); keywords are case-insensitive. */
    @Property(tries = 2000)
    void ehloCapabilitiesAgreeWithTheKeywordModel(@ForAll("ehloLines") List<String> keywordLines) {
        List<String> lines = new ArrayList<>();
        lines.add("mx.example greets you");
        lines.addAll(keywordLines);
        EhloCapabilities c = EhloCapabilities.parse(new SmtpReply(250, "", lines));
        boolean pipelining = false;
        boolean eightBit = false;
        boolean chunking = false;
        boolean dsn = false;
        boolean utf8 = false;
        boolean starttls = false;
        long size = 0;
        for (String l : keywordLines) {
            String[] words = l.strip().split("[ \t]+");
            switch (words[0].toUpperCase(Locale.ROOT)) {
                case "PIPELINING" -> pipelining = true;
                case "8BITMIME" -> eightBit = true;
                case "CHUNKING" -> chunking = true;
                case "DSN" -> dsn = true;
                case "SMTPUTF8" -> utf8 = true;
                case "STARTTLS" -> starttls = true; // RFC 3207
                // RFC 1870: SIZE [SP number]; no number, or one that is not a size, means no limit known.
                case "SIZE" -> size = words.length > 1 && words[1].matches("[0-9]{1,18}") ? Long.parseLong(words[1])
                        : 0;
                default -> {
                }
            }
        }
        assertThat(c).isEqualTo(new EhloCapabilities(true, pipelining, size, eightBit, chunking, dsn, utf8,
                starttls));
    }

    private static byte[] toArray(List<Byte> list) {
        byte[] b = new byte[list.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = list.get(i);
        }
        return b;
    }
}

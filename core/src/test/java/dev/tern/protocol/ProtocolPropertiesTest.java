package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property tests over random input and random split points. Every decoder is handed slices whose index 0 is the
 * current position and whose limit is the data's end, so any read outside [position, limit) throws and fails the
 * property. jqwik prints the seed of a failing run.
 */
class ProtocolPropertiesTest {
    private static final int MAX_LINE = 64;

    // ---------------------------------------------------------------- generators

    /** Octets biased towards the ones that matter to SMTP framing. */
    @Provide
    Arbitrary<byte[]> smtpish() {
        Arbitrary<Byte> octet = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of((byte) 'a', (byte) 'M', (byte) ' ', (byte) ':')),
                net.jqwik.api.Tuple.of(3, Arbitraries.of((byte) '.', (byte) '\r', (byte) '\n')),
                net.jqwik.api.Tuple.of(1, Arbitraries.of((byte) 0, (byte) 0xFF, (byte) 0x80, (byte) '<', (byte) '>')),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes()));
        return octet.list().ofMaxSize(400).map(ProtocolPropertiesTest::toArray);
    }

    /** Content made of CRLF-terminated lines without CR or LF inside, many starting with dots. */
    @Provide
    Arbitrary<byte[]> crlfContent() {
        Arbitrary<String> line = Arbitraries.strings().withChars('a', '.', ' ', 'Z', '\t', '\u00e9').ofMaxLength(40);
        return line.list().ofMaxSize(30).map(lines -> {
            StringBuilder sb = new StringBuilder();
            for (String l : lines) {
                sb.append(l).append("\r\n");
            }
            return latin1(sb.toString());
        });
    }

    /** A valid pipelined command stream built from realistic commands with random letter case. */
    @Provide
    Arbitrary<byte[]> pipeline() {
        Arbitrary<String> command = Arbitraries.of(
                "EHLO client.example.org", "HELO [192.0.2.7]",
                "MAIL FROM:<alice@example.org> SIZE=12345 BODY=8BITMIME",
                "MAIL FROM:<> RET=HDRS ENVID=abc+2Bdef", "MAIL FROM:<j\u00fcrgen@example.org> SMTPUTF8",
                "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org",
                "RCPT TO:<Postmaster>", "RCPT TO:<@hop.example:carol@[IPv6:2001:db8::1]>",
                "DATA", "BDAT 1000 LAST", "RSET", "NOOP hello", "VRFY bob", "HELP", "QUIT", "STARTTLS",
                "XYZZY", "MAIL FROM:alice", "RCPT TO:<> ", "MAIL FROM:<a@b.example> SIZE=x");
        Arbitrary<String> cased = Combinators.combine(command, Arbitraries.longs()).as((c, seed) -> {
            java.util.Random r = new java.util.Random(seed);
            StringBuilder sb = new StringBuilder(c);
            for (int i = 0; i < 4 && i < sb.length(); i++) {
                if (r.nextBoolean()) {
                    sb.setCharAt(i, Character.toLowerCase(sb.charAt(i)));
                }
            }
            return sb.toString();
        });
        return cased.list().ofMinSize(1).ofMaxSize(12).map(cmds -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (String c : cmds) {
                b.writeBytes(TestBytes.utf8(c + "\r\n"));
            }
            return b.toByteArray();
        });
    }

    private static byte[] toArray(List<Byte> list) {
        byte[] b = new byte[list.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = list.get(i);
        }
        return b;
    }

    private static int[] splits(List<Integer> raw, int length) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int r : raw) {
            s.add(Math.floorMod(r, length + 1));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---------------------------------------------------------------- framer + parser

    /** What the framer and parser made of one line, as comparable text. */
    private static String summary(int framed, Command c, int parsed, ByteBuffer line) {
        if (framed != LineFramer.LINE) {
            return LineFramer.statusName(framed);
        }
        StringBuilder sb = new StringBuilder(ParseStatus.name(parsed)).append(' ').append(c.verb());
        if (parsed == ParseStatus.OK) {
            sb.append(" arg=").append(TestBytes.string(line, c.argStart(), c.argEnd()))
                    .append(" dom=").append(TestBytes.string(line, c.domainStart(), c.domainEnd()))
                    .append(" path=").append(TestBytes.string(line, c.pathStart(), c.pathEnd()))
                    .append(" size=").append(c.size()).append(" body=").append(c.body())
                    .append(" utf8=").append(c.smtputf8()).append(c.utf8()).append(" ret=").append(c.ret())
                    .append(" envid=").append(TestBytes.string(line, c.envidStart(), c.envidEnd()))
                    .append(" notify=").append(c.notifyFlags())
                    .append(" orcpt=").append(TestBytes.string(line, c.orcptStart(), c.orcptEnd()))
                    .append(" chunk=").append(c.chunkSize()).append(c.last());
        }
        return sb.toString();
    }

    /**
     * Frames and parses {@code input} read in pieces ending at the split offsets, into a buffer of capacity
     * {@code maxLine} that is compacted between reads; each line is parsed from an exact slice.
     */
    private static List<String> frameAndParse(byte[] input, int[] splits, int maxLine) {
        LineFramer framer = new LineFramer(maxLine);
        CommandParser parser = new CommandParser(32);
        Command command = new Command();
        List<String> out = new ArrayList<>();
        ByteBuffer in = ByteBuffer.allocate(maxLine).limit(0);
        int fed = 0;
        int piece = 0;
        for (int guard = 0; guard < input.length * 2 + splits.length + 4; guard++) {
            int target = piece < splits.length ? splits[piece] : input.length;
            in.compact();
            int n = Math.min(in.remaining(), target - fed);
            in.put(input, fed, n);
            in.flip();
            fed += n;
            if (fed == target && piece < splits.length) {
                piece++;
            }
            while (true) {
                // A slice starting at the position: reading before it would throw.
                ByteBuffer view = in.slice();
                int status = framer.next(view);
                in.position(in.position() + view.position());
                if (status == LineFramer.NEED_MORE) {
                    assertThat(in.position() == 0 && in.limit() == in.capacity())
                            .as("NEED_MORE with a full, unconsumed buffer would stall the session").isFalse();
                    break;
                }
                if (status == LineFramer.LINE) {
                    ByteBuffer line = view.slice(framer.lineStart(), framer.lineEnd() - framer.lineStart());
                    int parsed = parser.parse(line, 0, line.limit(), command);
                    out.add(summary(status, command, parsed, line));
                } else {
                    out.add(summary(status, command, 0, view));
                }
            }
            if (fed == input.length && piece >= splits.length) {
                break;
            }
        }
        assertThat(in.remaining()).as("framer must never stall on a full buffer").isLessThan(maxLine);
        return out;
    }

    /** Reference model of the framer: split at every LF, classify each segment. */
    private static List<String> referenceFraming(byte[] input, int maxLine) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < input.length; i++) {
            if (input[i] != '\n') {
                continue;
            }
            int k = i - start; // octets before the LF
            boolean crlf = k > 0 && input[i - 1] == '\r';
            boolean innerCr = false;
            boolean nul = false;
            for (int j = start; j < i; j++) {
                innerCr |= input[j] == '\r' && j != i - 1;
                nul |= input[j] == 0;
            }
            if (k >= maxLine) {
                out.add("TOO_LONG");
            } else if (!crlf || innerCr) {
                out.add("BAD_LINE_ENDING");
            } else if (nul) {
                out.add("NUL");
            } else {
                out.add("LINE");
            }
            start = i + 1;
        }
        return out;
    }

    @Property(tries = 300)
    void framerMatchesReferenceModelOnRandomBytes(@ForAll("smtpish") byte[] input,
                                                  @ForAll @Size(max = 6) List<Integer> rawSplits) {
        List<String> statuses = frameAndParse(input, splits(rawSplits, input.length), MAX_LINE).stream()
                .map(s -> s.startsWith("BAD_LINE") || s.equals("TOO_LONG") || s.equals("NUL") ? s : "LINE")
                .toList();
        assertThat(statuses).isEqualTo(referenceFraming(input, MAX_LINE));
    }

    @Provide
    Arbitrary<String> endings() {
        return Arbitraries.of("\r\n", "\r", "\n", "\rX\r\n", "\r\r\n", "", "\u0000\r\n");
    }

    @Property(tries = 400)
    void framerHandlesLinesAroundTheLimit(@ForAll @IntRange(min = MAX_LINE - 4, max = MAX_LINE + 2) int length,
                                          @ForAll("endings") String ending,
                                          @ForAll @Size(max = 4) List<Integer> rawSplits) {
        byte[] input = latin1("a".repeat(length) + ending + "QUIT\r\n");
        List<String> statuses = frameAndParse(input, splits(rawSplits, input.length), MAX_LINE).stream()
                .map(s -> s.startsWith("BAD_LINE") || s.equals("TOO_LONG") || s.equals("NUL") ? s : "LINE")
                .toList();
        assertThat(statuses).isEqualTo(referenceFraming(input, MAX_LINE));
    }

    @Property(tries = 150)
    void pipelinedStreamSplitAtEveryOffsetYieldsSameCommands(@ForAll("pipeline") byte[] input) {
        List<String> whole = frameAndParse(input, new int[0], 1100);
        assertThat(whole).hasSize(referenceFraming(input, 1100).size()).allMatch(s -> !s.startsWith("BAD_LINE"));
        for (int split = 0; split <= input.length; split++) {
            assertThat(frameAndParse(input, new int[] {split}, 1100)).as("split at %d", split).isEqualTo(whole);
        }
    }

    @Property(tries = 300)
    void pipelinedStreamWithRandomMultiSplitsYieldsSameCommands(@ForAll("pipeline") byte[] input,
                                                                 @ForAll @Size(max = 20) List<Integer> rawSplits) {
        assertThat(frameAndParse(input, splits(rawSplits, input.length), 1100))
                .isEqualTo(frameAndParse(input, new int[0], 1100));
    }

    @Property(tries = 1000)
    void parserNeverThrowsOnRandomLines(@ForAll("smtpish") byte[] line, @ForAll @IntRange(max = 3) int prefix) {
        String[] verbs = {"", "MAIL FROM:<", "RCPT TO:<", "EHLO "};
        byte[] full = concat(latin1(verbs[prefix]), line);
        ByteBuffer exact = ByteBuffer.wrap(full).slice();
        int status = new CommandParser(512).parse(exact, 0, full.length, new Command());
        assertThat(status).isBetween(ParseStatus.OK, ParseStatus.UTF8_PATH_WITHOUT_SMTPUTF8);
    }

    // ---------------------------------------------------------------- DATA

    /** Where DATA must end: the first ".CRLF" at offset 0 or the first CRLF.CRLF, or -1. */
    private static int referenceEnd(byte[] input) {
        if (input.length >= 3 && input[0] == '.' && input[1] == '\r' && input[2] == '\n') {
            return 3;
        }
        for (int i = 0; i + 5 <= input.length; i++) {
            if (input[i] == '\r' && input[i + 1] == '\n' && input[i + 2] == '.' && input[i + 3] == '\r'
                    && input[i + 4] == '\n') {
                return i + 5;
            }
        }
        return -1;
    }

    /** Decodes with every call given a fresh slice from the position, so reads before it would throw. */
    private static Decoding.Result sliced(byte[] input, LineEndingPolicy policy, int[] splits, int outSize) {
        DataDecoder decoder = new DataDecoder(1 << 20, 1000, policy);
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        ByteBuffer out = ByteBuffer.allocate(outSize);
        int consumed = 0;
        boolean ended = false;
        int[] bounds = new int[splits.length + 1];
        System.arraycopy(splits, 0, bounds, 0, splits.length);
        bounds[splits.length] = input.length;
        for (int bound : bounds) {
            for (int guard = 0; guard < 4 * input.length + 8 && !ended && consumed < bound; guard++) {
                ByteBuffer in = ByteBuffer.wrap(input, consumed, bound - consumed).slice();
                int status = decoder.decode(in, out);
                consumed += in.position();
                content.writeBytes(TestBytes.written(out));
                out.clear();
                ended = status == DataDecoder.END;
            }
        }
        // Flush anything held back after the last input.
        for (int guard = 0; guard < 16 && !ended; guard++) {
            int status = decoder.decode(ByteBuffer.allocate(0), out);
            content.writeBytes(TestBytes.written(out));
            out.clear();
            if (status != DataDecoder.OUTPUT_FULL) {
                break;
            }
        }
        return new Decoding.Result(content.toByteArray(), ended, consumed, decoder.contentLength(),
                decoder.tooBig(), decoder.lineTooLong(), decoder.badLineEnding());
    }

    @Property(tries = 1000)
    void dataEndsExactlyWhereReferenceModelSays(@ForAll("smtpish") byte[] input,
                                                @ForAll @Size(max = 5) List<Integer> rawSplits,
                                                @ForAll @IntRange(min = 1, max = 9) int outSize,
                                                @ForAll boolean normalize) {
        LineEndingPolicy policy = normalize ? LineEndingPolicy.NORMALIZE : LineEndingPolicy.REJECT;
        Decoding.Result r = sliced(input, policy, splits(rawSplits, input.length), outSize);
        int expected = referenceEnd(input);
        assertThat(r.ended()).isEqualTo(expected >= 0);
        assertThat(r.consumed()).isEqualTo(expected >= 0 ? expected : input.length);
    }

    @Property(tries = 200)
    void dataSplitAtEveryOffsetDecodesIdentically(@ForAll("smtpish") byte[] body, @ForAll boolean normalize) {
        LineEndingPolicy policy = normalize ? LineEndingPolicy.NORMALIZE : LineEndingPolicy.REJECT;
        byte[] input = concat(body, latin1("\r\n.\r\n"));
        Decoding.Result whole = sliced(input, policy, new int[0], 4096);
        for (int split = 0; split <= input.length; split++) {
            Decoding.Result r = sliced(input, policy, new int[] {split}, 3);
            assertThat(r.content()).as("split %d", split).isEqualTo(whole.content());
            assertThat(r.consumed()).isEqualTo(whole.consumed());
            assertThat(r.badLineEnding()).isEqualTo(whole.badLineEnding());
            assertThat(r.contentLength()).isEqualTo(whole.contentLength());
        }
    }

    @Property(tries = 500)
    void dotStuffingRoundTrips(@ForAll("crlfContent") byte[] content,
                               @ForAll @Size(max = 8) List<Integer> rawSplits) {
        byte[] stuffed = Decoding.dotStuff(content);
        Decoding.Result r = sliced(stuffed, LineEndingPolicy.REJECT, splits(rawSplits, stuffed.length), 5);
        assertThat(r.ended()).isTrue();
        assertThat(r.consumed()).isEqualTo(stuffed.length);
        assertThat(r.content()).isEqualTo(content);
        assertThat(r.badLineEnding()).isFalse();
        assertThat(r.contentLength()).isEqualTo(content.length);
    }

    @Property(tries = 300)
    void normalizedContentHasOnlyCrlfLineEndings(@ForAll("smtpish") byte[] body) {
        Decoding.Result r = sliced(concat(body, latin1("\r\n.\r\n")), LineEndingPolicy.NORMALIZE, new int[0], 64);
        String text = r.text();
        assertThat(text.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        assertThat(r.badLineEnding()).isFalse();
    }

    // ---------------------------------------------------------------- BDAT

    private static byte[] bdat(byte[] content, int[] chunkEnds, int[] readSplits, LineEndingPolicy policy,
                               int outSize) {
        BdatDecoder d = new BdatDecoder(1 << 20, policy);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer out = ByteBuffer.allocate(outSize);
        int chunkStart = 0;
        int[] ends = new int[chunkEnds.length + 1];
        System.arraycopy(chunkEnds, 0, ends, 0, chunkEnds.length);
        ends[chunkEnds.length] = content.length;
        int consumed = 0;
        for (int chunkEnd : ends) {
            d.startChunk(chunkEnd - chunkStart);
            int status = BdatDecoder.NEED_INPUT;
            for (int guard = 0; guard < 8 * content.length + 16 && status != BdatDecoder.CHUNK_END; guard++) {
                int readEnd = content.length;
                for (int s : readSplits) {
                    if (s > consumed) {
                        readEnd = s;
                        break;
                    }
                }
                // The input holds the rest of the data (including later chunks): the decoder must stop at the chunk.
                ByteBuffer in = ByteBuffer.wrap(content, consumed, readEnd - consumed).slice();
                status = d.decode(in, out);
                consumed += in.position();
                got.writeBytes(TestBytes.written(out));
                out.clear();
            }
            assertThat(status).isEqualTo(BdatDecoder.CHUNK_END);
            assertThat(consumed).isEqualTo(chunkEnd);
            chunkStart = chunkEnd;
        }
        for (int guard = 0; guard < 16; guard++) {
            boolean done = d.finishMessage(out);
            got.writeBytes(TestBytes.written(out));
            out.clear();
            if (done) {
                break;
            }
        }
        return got.toByteArray();
    }

    @Property(tries = 500)
    void bdatOutputDoesNotDependOnChunkingOrReads(@ForAll("smtpish") byte[] content,
                                                  @ForAll @Size(max = 6) List<Integer> rawChunks,
                                                  @ForAll @Size(max = 6) List<Integer> rawReads,
                                                  @ForAll @IntRange(min = 1, max = 7) int outSize,
                                                  @ForAll boolean normalize) {
        LineEndingPolicy policy = normalize ? LineEndingPolicy.NORMALIZE : LineEndingPolicy.REJECT;
        byte[] whole = bdat(content, new int[0], new int[0], policy, 4096);
        byte[] pieces = bdat(content, splits(rawChunks, content.length), splits(rawReads, content.length), policy,
                outSize);
        assertThat(pieces).isEqualTo(whole);
        if (normalize) {
            String text = new String(whole, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(text.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        }
    }

    @Property(tries = 300)
    void bdatOfCrlfContentIsVerbatim(@ForAll("crlfContent") byte[] content,
                                     @ForAll @Size(max = 6) List<Integer> rawChunks) {
        assertThat(bdat(content, splits(rawChunks, content.length), new int[0], LineEndingPolicy.REJECT, 5))
                .isEqualTo(content);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

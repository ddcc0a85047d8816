package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The header scanning of outgoing mail before DKIM signs it: {@link HeaderFields} (one field per line that does not
 * begin with WSP, folding = CRLF followed by WSP, RFC 5322 2.2 and 2.2.3; names matched without regard to ASCII
 * case, RFC 5322 1.2.2; RFC 6376 5.4.2 bottom-most unused instance) against a model of generated header blocks, and
 * {@link DkimSigningStream}'s split of the message into header and body: the signature does not depend on how the
 * message is cut into pieces, bare LF line ends sign as CRLF (as the class documents), and h= names exactly the
 * configured fields that are in the header, never one that appears only in the body. jqwik prints the seed.
 */
class HeaderFieldsProperties {

    private static final List<String> SIGNED = List.of("from", "to", "subject", "date", "message-id", "reply-to",
            "cc", "x-a");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private static final DkimSigner SIGNER;

    static {
        try {
            SIGNER = new DkimSigner(List.of(TestKeys.ed25519()), SIGNED, Optional.empty(), CLOCK);
        } catch (DkimKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One generated field: its name, WSP before the colon (obsolete syntax, RFC 5322 4.5), and its value lines. */
    record Field(String name, String beforeColon, List<String> valueLines) {
        String text(String eol) {
            StringBuilder sb = new StringBuilder(name).append(beforeColon).append(':');
            for (int i = 0; i < valueLines.size(); i++) {
                sb.append(i == 0 ? "" : eol).append(valueLines.get(i));
            }
            return sb.append(eol).toString();
        }
    }

    @Provide
    Arbitrary<String> fieldNames() {
        // RFC 5322 2.2: printable US-ASCII (33-126) except ':'
        Arbitrary<String> any = Arbitraries.strings().withChars(printableExceptColon()).ofMinLength(1)
                .ofMaxLength(12);
        Arbitrary<String> common = Arbitraries.of("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "Cc",
                "X-A", "X-AB", "Received", "DKIM-Signature", "Fro", "Fromm", "X", "Subject-X", "Sub")
                .flatMap(n -> Arbitraries.integers().between(0, 3).map(c -> switch (c) {
                    case 0 -> n;
                    case 1 -> n.toLowerCase(Locale.ROOT);
                    case 2 -> n.toUpperCase(Locale.ROOT);
                    default -> mixedCase(n);
                }));
        return Arbitraries.frequencyOf(Tuple.of(4, common), Tuple.of(1, any));
    }

    private static char[] printableExceptColon() {
        StringBuilder sb = new StringBuilder();
        for (char c = 33; c <= 126; c++) {
            if (c != ':') {
                sb.append(c);
            }
        }
        return sb.toString().toCharArray();
    }

    private static String mixedCase(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(i % 2 == 0 ? Character.toUpperCase(c) : Character.toLowerCase(c));
        }
        return sb.toString();
    }

    @Provide
    Arbitrary<Field> fields() {
        Arbitrary<String> text = Arbitraries.strings().withCharRange(' ', '~').withChars('\t', ':')
                .ofMaxLength(20);
        Arbitrary<String> wsp = Arbitraries.strings().withChars(' ', '\t').ofMinLength(1).ofMaxLength(3);
        Arbitrary<String> continuation = Combinators.combine(wsp, text).as((w, t) -> w + t);
        Arbitrary<List<String>> lines = Combinators.combine(text, continuation.list().ofMaxSize(3))
                .as((first, rest) -> {
                    List<String> all = new ArrayList<>();
                    all.add(first);
                    all.addAll(rest);
                    return all;
                });
        Arbitrary<String> beforeColon = Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.of(" ", "\t", " \t ")));
        return Combinators.combine(fieldNames(), beforeColon, lines).as(Field::new);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    // ---------------------------------------------------------------- HeaderFields against the model

    @Property(tries = 1000)
    void fieldsAreFoundWhereTheModelPutsThem(@ForAll("fieldLists") List<Field> fields, @ForAll boolean lastEol) {
        StringBuilder sb = new StringBuilder();
        List<int[]> model = new ArrayList<>(); // start, end, valueStart
        for (Field f : fields) {
            int start = sb.length();
            sb.append(f.text("\r\n"));
            model.add(new int[] {start, sb.length(), start + f.name().length() + f.beforeColon().length() + 1});
        }
        if (!lastEol && !fields.isEmpty()) {
            sb.setLength(sb.length() - 2);
            model.getLast()[1] -= 2;
        }
        byte[] block = ascii(sb.toString());

        HeaderFields parsed = HeaderFields.parse(block, block.length);

        assertThat(parsed.count()).isEqualTo(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            assertThat(parsed.start(i)).as("start of field %d", i).isEqualTo(model.get(i)[0]);
            assertThat(parsed.end(i)).as("end of field %d", i).isEqualTo(model.get(i)[1]);
            assertThat(parsed.valueStart(i)).as("value of field %d", i).isEqualTo(model.get(i)[2]);
            for (Field other : fields) {
                boolean same = fields.get(i).name().equalsIgnoreCase(other.name());
                assertThat(parsed.nameIs(i, ascii(other.name().toLowerCase(Locale.ROOT))))
                        .as("'%s' is '%s'", fields.get(i).name(), other.name()).isEqualTo(same);
            }
        }
    }

    @Provide
    Arbitrary<List<Field>> fieldLists() {
        return fields().list().ofMaxSize(12);
    }

    /** RFC 6376 5.4.2: the bottom-most instance not yet used, working upwards. */
    @Property(tries = 2000)
    void lastUnusedIsTheBottomMostUnusedInstance(@ForAll("fieldLists") List<Field> fields,
                                                 @ForAll("fieldNames") String asked, @ForAll long usedBits) {
        StringBuilder sb = new StringBuilder();
        fields.forEach(f -> sb.append(f.text("\r\n")));
        byte[] block = ascii(sb.toString());
        HeaderFields parsed = HeaderFields.parse(block, block.length);
        boolean[] used = new boolean[fields.size()];
        for (int i = 0; i < used.length; i++) {
            used[i] = (usedBits >>> i & 1) != 0;
        }
        int expected = -1;
        for (int i = fields.size() - 1; i >= 0 && expected < 0; i--) {
            if (!used[i] && fields.get(i).name().equalsIgnoreCase(asked)) {
                expected = i;
            }
        }
        assertThat(parsed.lastUnused(ascii(asked.toLowerCase(Locale.ROOT)), used)).isEqualTo(expected);
    }

    @Provide
    Arbitrary<byte[]> hostileBlocks() {
        Arbitrary<Byte> octet = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of((byte) '\r', (byte) '\n', (byte) ' ', (byte) '\t', (byte) ':')),
                Tuple.of(4, Arbitraries.of((byte) 'a', (byte) 'F', (byte) '-')),
                Tuple.of(1, Arbitraries.bytes()));
        return octet.list().ofMaxSize(120).map(l -> {
            byte[] b = new byte[l.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = l.get(i);
            }
            return b;
        });
    }

    /**
     * Any bytes: the fields tile the block, a field starts at offset 0 or right after a CRLF at a byte that is not
     * WSP, every CRLF inside a field is followed by WSP, and a field with a colon on its first line is named by the
     * bytes before it (trailing WSP dropped); one without has no name.
     */
    @Property(tries = 5000)
    void anyBlockIsTiledIntoFields(@ForAll("hostileBlocks") byte[] block) {
        HeaderFields parsed = HeaderFields.parse(block, block.length);
        if (block.length == 0) {
            assertThat(parsed.count()).isZero();
            return;
        }
        assertThat(parsed.count()).isPositive();
        assertThat(parsed.start(0)).isZero();
        assertThat(parsed.end(parsed.count() - 1)).isEqualTo(block.length);
        for (int f = 0; f < parsed.count(); f++) {
            int start = parsed.start(f);
            int end = parsed.end(f);
            assertThat(end).isGreaterThan(start);
            if (f > 0) {
                assertThat(start).isEqualTo(parsed.end(f - 1));
                assertThat(block[start - 2] == '\r' && block[start - 1] == '\n').isTrue();
                assertThat(isWsp(block[start])).as("field %d starts with WSP", f).isFalse();
            }
            for (int k = start + 2; k < end; k++) {
                if (block[k - 2] == '\r' && block[k - 1] == '\n') {
                    assertThat(isWsp(block[k])).as("CRLF inside field %d at %d not followed by WSP", f, k).isTrue();
                }
            }
            // The name and its colon are on the field's first line: no folding before the colon (RFC 5322 3.6.8,
            // obs-optional 4.5.8 allows WSP there, not FWS).
            int firstLineEnd = end;
            for (int k = start; k + 1 < end && firstLineEnd == end; k++) {
                firstLineEnd = block[k] == '\r' && block[k + 1] == '\n' ? k : end;
            }
            int colon = -1;
            for (int k = start; k < firstLineEnd && colon < 0; k++) {
                colon = block[k] == ':' ? k : -1;
            }
            if (colon >= 0) {
                assertThat(parsed.valueStart(f)).isEqualTo(colon + 1);
                int nameEnd = colon;
                while (nameEnd > start && isWsp(block[nameEnd - 1])) {
                    nameEnd--;
                }
                byte[] name = new byte[nameEnd - start];
                for (int k = 0; k < name.length; k++) {
                    byte c = block[start + k];
                    name[k] = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
                }
                assertThat(parsed.nameIs(f, name)).isTrue();
                if (name.length > 0) {
                    assertThat(parsed.nameIs(f, java.util.Arrays.copyOf(name, name.length - 1))).isFalse();
                }
            } else {
                byte[] line = java.util.Arrays.copyOfRange(block, start, firstLineEnd);
                assertThat(parsed.nameIs(f, line)).isFalse();
                assertThat(parsed.nameIs(f, new byte[0])).isFalse();
            }
        }
    }

    private static boolean isWsp(byte b) {
        return b == ' ' || b == '\t';
    }

    // ---------------------------------------------------------------- DkimSigningStream: header and body

    @Provide
    Arbitrary<List<String>> bodies() {
        // Body lines that look like header fields must not count as header fields.
        Arbitrary<String> line = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(30)),
                Tuple.of(1, Arbitraries.of("Subject: in the body", "Cc: x@y", "X-A: 1", " folded?", "", "."))
        );
        return line.list().ofMaxSize(6);
    }

    private static String message(List<Field> fields, List<String> body, String eol) {
        StringBuilder sb = new StringBuilder();
        fields.forEach(f -> sb.append(f.text(eol)));
        sb.append(eol);
        body.forEach(l -> sb.append(l).append(eol));
        return sb.toString();
    }

    private static byte[] sign(byte[] message, List<Integer> cuts) {
        DkimSigningStream s = SIGNER.streamFor("example.com");
        TreeSet<Integer> at = new TreeSet<>();
        cuts.forEach(c -> at.add(Math.floorMod(c, message.length + 1)));
        at.add(message.length);
        int from = 0;
        for (int to : at) {
            // pieces as the journal hands them: direct buffers with a position, sometimes empty
            ByteBuffer piece = ByteBuffer.allocateDirect(to - from + 3);
            piece.put(new byte[] {'x', 'y', 'z'}, 0, 3);
            piece.put(message, from, to - from).flip().position(3);
            s.update(piece);
            from = to;
        }
        return s.finish().orElseThrow();
    }

    @Property(tries = 300)
    void theSignatureDoesNotDependOnHowTheMessageIsCut(@ForAll("fieldLists") List<Field> fields,
                                                       @ForAll("bodies") List<String> body,
                                                       @ForAll("cuts") List<Integer> cuts) {
        byte[] m = ascii(message(fields, body, "\r\n"));
        assertThat(new String(sign(m, cuts), StandardCharsets.ISO_8859_1))
                .isEqualTo(new String(sign(m, List.of()), StandardCharsets.ISO_8859_1));
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(0, 1 << 20).list().ofMaxSize(8);
    }

    @Property(tries = 600)
    void anyBytesSignTheSameHoweverCut(@ForAll("hostileBlocks") byte[] m, @ForAll("cuts") List<Integer> cuts) {
        assertThat(new String(sign(m, cuts), StandardCharsets.ISO_8859_1))
                .isEqualTo(new String(sign(m, List.of()), StandardCharsets.ISO_8859_1));
    }

    /** Tern's client sends a bare LF as CRLF, so the signature must be that of the CRLF form. */
    @Property(tries = 300)
    void bareLfLineEndsSignAsCrlf(@ForAll("fieldLists") List<Field> fields, @ForAll("bodies") List<String> body,
                                  @ForAll("cuts") List<Integer> cuts) {
        byte[] crlf = ascii(message(fields, body, "\r\n"));
        byte[] lf = ascii(message(fields, body, "\n"));
        assertThat(new String(sign(lf, cuts), StandardCharsets.ISO_8859_1))
                .isEqualTo(new String(sign(crlf, List.of()), StandardCharsets.ISO_8859_1));
    }

    /** h= lists each configured name present in the header once (from always), in the configured order. */
    @Property(tries = 400)
    void hTagNamesExactlyTheSignedFieldsOfTheHeader(@ForAll("fieldLists") List<Field> fields,
                                                    @ForAll("bodies") List<String> body) {
        byte[] m = ascii(message(fields, body, "\r\n"));
        Set<String> present = new LinkedHashSet<>();
        fields.forEach(f -> present.add(f.name().toLowerCase(Locale.ROOT)));
        List<String> expected = SIGNED.stream().filter(n -> n.equals("from") || present.contains(n)).toList();

        assertThat(hTag(sign(m, List.of()))).isEqualTo(expected);
    }

    private static List<String> hTag(byte[] signature) {
        String unfolded = new String(signature, StandardCharsets.US_ASCII).replaceAll("\r\n[ \t]+", " ")
                .replace(" ", "").replace("\t", "");
        Matcher h = Pattern.compile(";h=([^;]*);").matcher(unfolded);
        assertThat(h.find()).as(unfolded).isTrue();
        return List.of(h.group(1).split(":"));
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class BodyEncoderTest {

    /** Encodes {@code input} split at {@code cuts} through a tiny output buffer (forces many flushes). */
    private static byte[] encode(byte[] input, boolean dotStuff, List<Integer> cuts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BodyEncoder enc = new BodyEncoder(ByteBuffer.allocateDirect(8), dotStuff, b -> {
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            out.writeBytes(bytes);
        });
        ByteBuffer all = ByteBuffer.allocateDirect(Math.max(1, input.length)).put(input).flip();
        int from = 0;
        for (int cut : new TreeSet<>(cuts)) {
            if (cut > from && cut < input.length) {
                enc.encode(all.slice(from, cut - from).asReadOnlyBuffer());
                from = cut;
            }
        }
        enc.encode(all.slice(from, input.length - from).asReadOnlyBuffer());
        enc.finish();
        return out.toByteArray();
    }

    private static String data(String s) throws IOException {
        return new String(encode(s.getBytes(StandardCharsets.US_ASCII), true, List.of()), StandardCharsets.US_ASCII);
    }

    @Test
    void doublesALeadingDot() throws IOException {
        assertThat(data("a\r\n.b\r\n")).isEqualTo("a\r\n..b\r\n.\r\n");
    }

    @Test
    void stuffsADotAtTheVeryStart() throws IOException {
        assertThat(data(".\r\n")).isEqualTo("..\r\n.\r\n");
    }

    @Test
    void leavesDotsInsideALineAlone() throws IOException {
        assertThat(data("a.b\r\n")).isEqualTo("a.b\r\n.\r\n");
    }

    @Test
    void turnsBareLfIntoCrlf() throws IOException {
        assertThat(data("a\nb\r\n")).isEqualTo("a\r\nb\r\n.\r\n");
    }

    @Test
    void turnsBareCrIntoCrlf() throws IOException {
        assertThat(data("a\rb\r\n")).isEqualTo("a\r\nb\r\n.\r\n");
    }

    @Test
    void stuffsADotAfterABareLf() throws IOException {
        assertThat(data("a\n.\nb")).isEqualTo("a\r\n..\r\nb\r\n.\r\n");
    }

    @Test
    void addsTheMissingFinalCrlf() throws IOException {
        assertThat(data("no end")).isEqualTo("no end\r\n.\r\n");
    }

    @Test
    void endsAnEmptyBodyWithTheTerminatorOnly() throws IOException {
        assertThat(data("")).isEqualTo(".\r\n");
    }

    @Test
    void bdatModeDoesNotStuffNorTerminate() throws IOException {
        byte[] out = encode(".a\r\n".getBytes(StandardCharsets.US_ASCII), false, List.of());
        assertThat(new String(out, StandardCharsets.US_ASCII)).isEqualTo(".a\r\n");
    }

    @Test
    void recognisesCanonicalPieces() {
        BodyEncoder enc = new BodyEncoder(ByteBuffer.allocate(8), false, b -> { });
        assertThat(enc.canonical(ByteBuffer.wrap("a\r\nb\r\n".getBytes(StandardCharsets.US_ASCII)))).isTrue();
        assertThat(enc.canonical(ByteBuffer.wrap("a\nb".getBytes(StandardCharsets.US_ASCII)))).isFalse();
        assertThat(enc.canonical(ByteBuffer.wrap("a\r".getBytes(StandardCharsets.US_ASCII)))).isFalse();
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        return Arbitraries.of((byte) 'a', (byte) '.', (byte) '\r', (byte) '\n', (byte) ' ', (byte) 0xC3)
                .list().ofMaxSize(200).map(l -> {
                    byte[] b = new byte[l.size()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = l.get(i);
                    }
                    return b;
                });
    }

    @Property(tries = 500)
    void anySplitGivesTheSameBytes(@ForAll("bodies") byte[] body,
                                   @ForAll List<@net.jqwik.api.constraints.IntRange(max = 200) Integer> cuts)
            throws IOException {
        assertThat(encode(body, true, cuts)).isEqualTo(encode(body, true, List.of()));
    }

    @Property(tries = 500)
    void outputHasOnlyCrlfLineEndingsAndOneTerminator(@ForAll("bodies") byte[] body) throws IOException {
        byte[] out = encode(body, true, List.of());
        for (int i = 0; i < out.length; i++) {
            if (out[i] == '\r') {
                assertThat(i + 1 < out.length && out[i + 1] == '\n').as("CR at %d followed by LF", i).isTrue();
            }
            if (out[i] == '\n') {
                assertThat(i > 0 && out[i - 1] == '\r').as("LF at %d preceded by CR", i).isTrue();
            }
        }
        String s = "\r\n" + new String(out, StandardCharsets.ISO_8859_1);
        // The only line consisting of a single dot is the terminator, at the end: nothing can end the DATA early.
        assertThat(s.indexOf("\r\n.\r\n")).isEqualTo(s.length() - 5);
    }
}

package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class BytesTest {
    /** The octet-by-octet definition the word-at-a-time scan must agree with. */
    private static int naiveIndexOfCrOrLf(ByteBuffer in, int from, int to) {
        for (int p = from; p < to; p++) {
            if (in.get(p) == '\r' || in.get(p) == '\n') {
                return p;
            }
        }
        return to;
    }

    private static ByteBuffer direct(byte[] bytes, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).order(order);
        b.put(bytes).flip();
        return b;
    }

    /** Control octets (TAB, NUL, 13 and 10), high octets and printable ones, in every mix. */
    @Property(tries = 500)
    void indexOfCrOrLfAgreesWithTheNaiveScanInBothByteOrders(
            @ForAll @Size(max = 64) byte[] seed, @ForAll @IntRange(max = 8) int from, @ForAll boolean bigEndian) {
        byte[] palette = {'\r', '\n', '\t', 0, 11, 12, 14, (byte) 0x8D, (byte) 0x8A, (byte) 0xFF, 'a', ' '};
        byte[] bytes = new byte[seed.length];
        for (int i = 0; i < seed.length; i++) {
            bytes[i] = palette[Math.floorMod(seed[i], palette.length)];
        }
        ByteBuffer in = direct(bytes, bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int start = Math.min(from, bytes.length);
        assertThat(Bytes.indexOfCrOrLf(in, start, bytes.length))
                .isEqualTo(naiveIndexOfCrOrLf(in, start, bytes.length));
    }

    @Test
    void indexOfCrOrLfSkipsTabsAndOtherLowOctetsInAWord() {
        byte[] bytes = "a\tb\u000bc\u000c\u0000d\te\tf\u000eg\nh".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(Bytes.indexOfCrOrLf(direct(bytes, ByteOrder.BIG_ENDIAN), 0, bytes.length)).isEqualTo(14);
    }

    @Test
    void indexOfCrOrLfReturnsTheEndWhenThereIsNone() {
        byte[] bytes = "abcdefghijklmnopq\t\t".getBytes(StandardCharsets.US_ASCII);
        assertThat(Bytes.indexOfCrOrLf(direct(bytes, ByteOrder.BIG_ENDIAN), 0, bytes.length)).isEqualTo(bytes.length);
    }
}

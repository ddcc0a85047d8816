package dev.tern.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Byte scanning helpers shared by the framer and decoders: SWAR (8 octets per step) search for CR, LF or NUL.
 * Reads with absolute indexes only; the result does not depend on the buffer's byte order (a word's marked octets are
 * located from its first octet in memory, whichever end of the long that is).
 *
 * <p>Threading: stateless.
 */
public final class Bytes {
    static final byte CR = '\r';
    static final byte LF = '\n';

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long CRS = ONES * CR;
    private static final long LFS = ONES * LF;
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long BELOW14_ADD = ONES * (0x80 - 14);

    private Bytes() {
    }

    /**
     * The index of the first CR or LF in {@code in[from, to)}, or {@code to} if there is none. One word test marks the
     * octets below 14 (CR is 13, LF 10); only those, rare in mail besides the line end, are looked at one by one.
     */
    public static int indexOfCrOrLf(ByteBuffer in, int from, int to) {
        boolean bigEndian = in.order() == ByteOrder.BIG_ENDIAN;
        int p = from;
        while (to - p >= Long.BYTES) {
            long w = in.getLong(p);
            long m = below14(w);
            while (m != 0) {
                int i = (bigEndian ? Long.numberOfLeadingZeros(m) : Long.numberOfTrailingZeros(m)) >>> 3;
                byte b = in.get(p + i);
                if (b == CR || b == LF) {
                    return p + i;
                }
                m &= bigEndian ? ~(Long.MIN_VALUE >>> (i << 3)) : ~(0x80L << (i << 3));
            }
            p += Long.BYTES;
        }
        for (; p < to; p++) {
            byte b = in.get(p);
            if (b == CR || b == LF) {
                return p;
            }
        }
        return to;
    }

    /** The index of the first CR, LF or NUL in {@code in[from, to)}, or {@code to} if there is none. */
    static int indexOfCrLfOrNul(ByteBuffer in, int from, int to) {
        int p = from;
        while (to - p >= Long.BYTES) {
            long w = in.getLong(p);
            if (hasZeroByte(w ^ CRS) || hasZeroByte(w ^ LFS) || hasZeroByte(w)) {
                break;
            }
            p += Long.BYTES;
        }
        for (; p < to; p++) {
            byte b = in.get(p);
            if (b == CR || b == LF || b == 0) {
                return p;
            }
        }
        return to;
    }

    /**
     * 0x80 in exactly the octets of {@code w} whose value is below 14, else 0: adding 0x72 to an octet's low 7 bits
     * sets its high bit iff they are 14 or more, and never carries into the next octet.
     */
    private static long below14(long w) {
        return ~(((w & LOW7) + BELOW14_ADD) | w) & HIGHS;
    }

    /** True if any of the 8 octets of {@code w} is zero (exact: no false positives for "any"). */
    private static boolean hasZeroByte(long w) {
        return ((w - ONES) & ~w & HIGHS) != 0;
    }
}

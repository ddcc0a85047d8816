package dev.tern.protocol;

import java.nio.ByteBuffer;

/**
 * Byte scanning helpers shared by the framer and decoders: SWAR (8 octets per step) search for CR, LF or NUL.
 * Reads with absolute indexes only; the result does not depend on the buffer's byte order because only "is any octet
 * CR/LF/NUL" is asked of a word, and the exact index is then found octet by octet.
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

    private Bytes() {
    }

    /** The index of the first CR or LF in {@code in[from, to)}, or {@code to} if there is none. */
    public static int indexOfCrOrLf(ByteBuffer in, int from, int to) {
        int p = from;
        while (to - p >= Long.BYTES) {
            long w = in.getLong(p);
            if (hasZeroByte(w ^ CRS) || hasZeroByte(w ^ LFS)) {
                break;
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

    /** True if any of the 8 octets of {@code w} is zero (exact: no false positives for "any"). */
    private static boolean hasZeroByte(long w) {
        return ((w - ONES) & ~w & HIGHS) != 0;
    }
}

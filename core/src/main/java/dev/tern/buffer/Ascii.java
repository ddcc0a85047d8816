package dev.tern.buffer;

import java.nio.ByteBuffer;

/**
 * Helpers for bytes that are mostly US-ASCII. {@link #escape} makes client input safe to log: printable ASCII is
 * kept, everything else becomes {@code \xHH} (CR and LF as {@code \r} and {@code \n}), and the result is truncated;
 * logging only, it allocates. {@link #decimalDigits} and {@link #putDigits} write numbers as ASCII digits into a
 * caller's array without allocating (replies, log lines). {@link #printable} makes text safe to echo in a one-line
 * answer.
 *
 * <p>Threading: stateless; safe from any thread.
 */
public final class Ascii {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Ascii() {
    }

    /** How many decimal digits a non-negative {@code value} has (1 for 0). */
    public static int decimalDigits(long value) {
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        return digits;
    }

    /** Writes the last {@code count} decimal digits of a non-negative {@code value}, zero-padded, at {@code dst[at]}. */
    public static void putDigits(byte[] dst, int at, int count, long value) {
        long v = value;
        for (int i = at + count - 1; i >= at; i--) {
            dst[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
    }

    /** Escapes {@code src[from, to)} (absolute indexes), keeping at most {@code maxChars} input bytes. */
    public static String escape(ByteBuffer src, int from, int to, int maxChars) {
        int end = Math.min(to, from + Math.max(0, maxChars));
        StringBuilder sb = new StringBuilder(Math.max(0, end - from) + 8);
        for (int i = from; i < end; i++) {
            appendEscaped(sb, src.get(i) & 0xFF);
        }
        if (end < to) {
            sb.append("...");
        }
        return sb.toString();
    }

    /** Escapes {@code src[from, to)}, keeping at most {@code maxChars} input bytes. */
    public static String escape(byte[] src, int from, int to, int maxChars) {
        return escape(ByteBuffer.wrap(src), from, to, maxChars);
    }

    /**
     * {@code text} with every char outside printable ASCII as '?': an answer that quotes its request stays one line
     * whatever the request held (a control, a Unicode line separator).
     */
    public static String printable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            b.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return b.toString();
    }

    private static void appendEscaped(StringBuilder sb, int b) {
        if (b >= 0x20 && b < 0x7F && b != '\\') {
            sb.append((char) b);
        } else if (b == '\r') {
            sb.append("\\r");
        } else if (b == '\n') {
            sb.append("\\n");
        } else if (b == '\\') {
            sb.append("\\\\");
        } else {
            sb.append("\\x").append(HEX[b >>> 4]).append(HEX[b & 0xF]);
        }
    }
}

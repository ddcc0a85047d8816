package dev.tern.buffer;

import java.nio.ByteBuffer;

/**
 * Helpers for bytes that are mostly US-ASCII. {@link #escape} makes client input safe to log: printable ASCII is
 * kept, everything else becomes {@code \xHH} (CR and LF as {@code \r} and {@code \n}), and the result is truncated.
 * Logging only: it allocates.
 *
 * <p>Threading: stateless; safe from any thread.
 */
public final class Ascii {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Ascii() {
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

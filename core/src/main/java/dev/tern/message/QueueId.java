package dev.tern.message;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Queue ids: 64-bit, unique across restarts, sortable by acceptance time, printed as 16 upper-case hex digits
 * (e.g. {@code 0193A4F2C81B0007}). The high 44 bits are milliseconds since the epoch, the low 20 bits a counter, so
 * a million ids per millisecond can be issued before the generator borrows from the next millisecond.
 *
 * <p>Threading: {@link #next()} is lock-free and may be called from any thread.
 */
public final class QueueId {
    private static final AtomicLong LAST = new AtomicLong();

    private QueueId() {
    }

    /** A fresh id, strictly greater than every id this JVM issued before. */
    public static long next() {
        long candidate = System.currentTimeMillis() << 20;
        while (true) {
            long last = LAST.get();
            long id = Math.max(candidate, last + 1);
            if (LAST.compareAndSet(last, id)) {
                return id;
            }
        }
    }

    /** 16 hex digits, upper case. */
    public static String format(long id) {
        String hex = Long.toHexString(id).toUpperCase(java.util.Locale.ROOT);
        return "0".repeat(16 - hex.length()) + hex;
    }

    /** Writes the 16 hex digits of {@code id} into {@code dst} at {@code offset} without allocating. */
    public static void formatInto(long id, byte[] dst, int offset) {
        for (int i = 15; i >= 0; i--) {
            int nibble = (int) (id & 0xF);
            dst[offset + i] = (byte) (nibble < 10 ? '0' + nibble : 'A' + nibble - 10);
            id >>>= 4;
        }
    }

    /** Parses 16 hex digits (either case); throws {@link IllegalArgumentException} on anything else. */
    public static long parse(CharSequence text) {
        if (text.length() != 16) {
            throw new IllegalArgumentException("a queue id has 16 hex digits: " + text);
        }
        for (int i = 0; i < 16; i++) { // ASCII only: parseUnsignedLong would also take a '+' and other scripts' digits
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                throw new IllegalArgumentException("a queue id has 16 hex digits: " + text);
            }
        }
        return Long.parseUnsignedLong(text.toString(), 16);
    }
}

package dev.tern.loadgen;

/** Writes numbers as ASCII into byte arrays without allocating. Stateless. */
final class Ascii {
    private Ascii() {
    }

    /** Writes the decimal digits of {@code value} (non-negative) at {@code at}; returns the index after them. */
    static int putLong(byte[] dst, int at, long value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative: " + value);
        }
        int digits = 1;
        for (long v = value / 10; v > 0; v /= 10) {
            digits++;
        }
        int end = at + digits;
        long v = value;
        for (int i = end - 1; i >= at; i--) {
            dst[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return end;
    }

    /** Writes {@code text} (ASCII) at {@code at}; returns the index after it. */
    static int put(byte[] dst, int at, String text) {
        for (int i = 0; i < text.length(); i++) {
            dst[at + i] = (byte) text.charAt(i);
        }
        return at + text.length();
    }

    /** Number of decimal digits of a non-negative value. */
    static int digits(long value) {
        int digits = 1;
        for (long v = value / 10; v > 0; v /= 10) {
            digits++;
        }
        return digits;
    }
}

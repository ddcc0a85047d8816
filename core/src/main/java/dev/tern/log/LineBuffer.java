package dev.tern.log;

import dev.tern.buffer.Ascii;
import java.util.Arrays;

/**
 * A growable byte array a log line is laid out in, reused line after line. Text goes in only as ASCII: the append
 * methods for text refuse (return false) at the first other character, and the caller then lays the line out the
 * general way, which encodes it.
 *
 * <p>Threading: not thread-safe; one owner at a time.
 */
final class LineBuffer {
    private byte[] bytes;
    private int length;

    LineBuffer(int capacity) {
        bytes = new byte[capacity];
    }

    int length() {
        return length;
    }

    byte[] array() {
        return bytes;
    }

    void truncate(int newLength) {
        length = newLength;
    }

    /** Empties the buffer, and gives back its array if one long line grew it past {@code keep} bytes. */
    void clear(int keep) {
        length = 0;
        if (bytes.length > keep) {
            bytes = new byte[keep];
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }

    LineBuffer append(byte b) {
        ensure(1);
        bytes[length++] = b;
        return this;
    }

    LineBuffer append(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    boolean appendAscii(String s) {
        return appendAscii(s, 0, s.length());
    }

    /** Appends {@code s[from, to)}; false, with nothing appended, if it holds a character outside ASCII. */
    boolean appendAscii(String s, int from, int to) {
        ensure(to - from);
        int at = length;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return false;
            }
            bytes[at++] = (byte) c;
        }
        length = at;
        return true;
    }

    /** {@code value} as {@link Long#toString(long)} writes it, without the String. */
    void appendDecimal(long value) {
        if (value == Long.MIN_VALUE) {
            appendAscii("-9223372036854775808");
            return;
        }
        if (value < 0) {
            append((byte) '-');
            value = -value;
        }
        appendDigits(value, Ascii.decimalDigits(value));
    }

    /** The last {@code digits} decimal digits of a non-negative {@code value}, zero-padded. */
    void appendDigits(long value, int digits) {
        ensure(digits);
        Ascii.putDigits(bytes, length, digits, value);
        length += digits;
    }

    private void ensure(int extra) {
        if (length + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + extra));
        }
    }
}

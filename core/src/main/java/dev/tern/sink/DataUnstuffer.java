package dev.tern.sink;

/**
 * Streaming decoder of a DATA section (RFC 5321 section 4.5.2): removes the leading dot that transparency adds to a
 * line and finds the end of the data. Only CRLF "." CRLF ends it: a bare LF or CR never starts a line, so
 * {@code LF . LF} is content (the SMTP smuggling lesson). The CRLF before the final dot belongs to the content.
 *
 * <p>Not thread-safe: one per connection, {@link #reset()} before each message. It never copies: it hands runs of
 * the caller's array to the {@link ContentConsumer}.
 */
final class DataUnstuffer {
    /** Receives decoded content, possibly in many small runs. */
    interface ContentConsumer {
        void content(byte[] bytes, int offset, int length);
    }

    private static final byte[] CR = {'\r'};
    private static final int LINE_START = 0;
    private static final int MID_LINE = 1;
    private static final int AFTER_CR = 2;
    private static final int DOT = 3;
    private static final int DOT_CR = 4;
    private static final int DONE = 5;

    // DATA follows the CRLF of the DATA command, so the first content byte starts a line.
    private int state = LINE_START;

    void reset() {
        state = LINE_START;
    }

    boolean done() {
        return state == DONE;
    }

    /**
     * Decodes {@code bytes[from, to)} and returns how many bytes it consumed: all of them, or fewer when the end of
     * data was found (the rest belongs to the next command).
     */
    int feed(byte[] bytes, int from, int to, ContentConsumer out) {
        int runStart = from;
        int i = from;
        while (i < to && state != DONE) {
            byte b = bytes[i];
            switch (state) {
                case LINE_START -> {
                    if (b == '.') {
                        emit(bytes, runStart, i, out);
                        runStart = i + 1;
                        state = DOT;
                    } else {
                        state = b == '\r' ? AFTER_CR : MID_LINE;
                    }
                    i++;
                }
                case MID_LINE -> {
                    while (i < to && bytes[i] != '\r') {
                        i++;
                    }
                    if (i < to) {
                        state = AFTER_CR;
                        i++;
                    }
                }
                case AFTER_CR -> {
                    state = b == '\n' ? LINE_START : b == '\r' ? AFTER_CR : MID_LINE;
                    i++;
                }
                case DOT -> {
                    // The dot was stuffing (or the start of the terminator): it is never content.
                    if (b == '\r') {
                        runStart = i + 1;
                        state = DOT_CR;
                    } else {
                        runStart = i;
                        state = MID_LINE;
                    }
                    i++;
                }
                case DOT_CR -> {
                    if (b == '\n') {
                        state = DONE;
                        i++;
                        runStart = i;
                    } else {
                        // "." CR x: the dot goes, the CR stays; x is looked at again after the CR.
                        out.content(CR, 0, 1);
                        runStart = i;
                        state = AFTER_CR;
                    }
                }
                default -> throw new IllegalStateException("state " + state);
            }
        }
        emit(bytes, runStart, i, out);
        return i - from;
    }

    private static void emit(byte[] bytes, int from, int to, ContentConsumer out) {
        if (to > from) {
            out.content(bytes, from, to - from);
        }
    }
}

package dev.tern.delivery;

import dev.tern.protocol.Bytes;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Turns stored message content into what goes on the wire, streaming, into one pooled direct buffer: every line
 * ending becomes CRLF (a bare CR or LF never leaves Tern: SMTP smuggling), and in DATA mode a line starting with a dot
 * gets a second one (RFC 5321 4.5.2). {@link #finish} ends the content with CRLF and, in DATA mode, the
 * {@code .CRLF} terminator. The content arrives in pieces; state carries across them, so any split gives the same
 * bytes.
 *
 * <p>Threading: owned by one outbound connection for one message. Ownership: the caller owns the buffer.
 */
final class BodyEncoder {

    /** Where a full buffer goes (a socket, or a BDAT chunk). The buffer is flipped for reading. */
    interface Sink {
        void flush(ByteBuffer bytes) throws IOException;
    }

    private final ByteBuffer out;
    private final boolean dotStuff;
    private final Sink sink;
    private boolean lineStart = true;
    private boolean pendingCr;

    /** {@code out} must have room for at least 8 bytes; it is cleared here. */
    BodyEncoder(ByteBuffer out, boolean dotStuff, Sink sink) {
        this.out = out.clear();
        this.dotStuff = dotStuff;
        this.sink = sink;
    }

    /** Encodes {@code src} from its position to its limit, without moving its position. */
    void encode(ByteBuffer src) throws IOException {
        int end = src.limit();
        for (int i = src.position(); i < end; i++) {
            if (!pendingCr && !lineStart) {
                // Inside a line: copy the run up to the next CR or LF in bulk.
                int run = i;
                while (run < end && src.get(run) != '\r' && src.get(run) != '\n') {
                    run++;
                }
                if (run > i) {
                    copy(src, i, run);
                    i = run - 1;
                    continue;
                }
            }
            byte b = src.get(i);
            if (pendingCr) {
                pendingCr = false;
                crlf();
                if (b == '\n') {
                    continue;
                }
            }
            if (b == '\r') {
                pendingCr = true;
            } else if (b == '\n') {
                crlf();
            } else {
                if (lineStart && dotStuff && b == '.') {
                    put((byte) '.');
                }
                put(b);
                lineStart = false;
            }
        }
    }

    /**
     * Whether {@code src} could be sent as is from the current state: its line endings are all CRLF and it does not
     * end inside one. (BDAT sends such pieces without copying them.)
     */
    boolean canonical(ByteBuffer src) {
        if (pendingCr) {
            return false;
        }
        int end = src.limit();
        int i = src.position();
        while ((i = Bytes.indexOfCrOrLf(src, i, end)) < end) {
            if (src.get(i) == '\n' || i + 1 >= end || src.get(i + 1) != '\n') {
                return false; // a bare LF, a bare CR, or a CR whose LF is in the next piece
            }
            i += 2;
        }
        return true;
    }

    /** Records that a canonical piece went out directly (after {@link #drain()}). */
    void skipped(ByteBuffer src) {
        if (src.hasRemaining()) {
            lineStart = src.get(src.limit() - 1) == '\n';
        }
    }

    /** Ends the content: a final CRLF if needed, then {@code .CRLF} in DATA mode, and flushes everything. */
    void finish() throws IOException {
        end();
        drain();
    }

    /**
     * Ends the content as {@link #finish} does but leaves the last bytes buffered (a full buffer on the way still goes
     * to the sink), so the caller can tell the sink that the next {@link #drain} is the last piece (BDAT LAST).
     */
    void end() throws IOException {
        if (pendingCr) {
            pendingCr = false;
            crlf();
        } else if (!lineStart) {
            crlf();
        }
        if (dotStuff) {
            put((byte) '.');
            crlf();
        }
    }

    /** Flushes what is buffered. */
    void drain() throws IOException {
        if (out.position() > 0) {
            out.flip();
            sink.flush(out);
            out.clear();
        }
    }

    private void copy(ByteBuffer src, int from, int to) throws IOException {
        while (from < to) {
            if (!out.hasRemaining()) {
                drain();
            }
            int n = Math.min(out.remaining(), to - from);
            out.put(out.position(), src, from, n);
            out.position(out.position() + n);
            from += n;
        }
    }

    private void crlf() throws IOException {
        put((byte) '\r');
        put((byte) '\n');
        lineStart = true;
    }

    private void put(byte b) throws IOException {
        if (!out.hasRemaining()) {
            drain();
        }
        out.put(b);
    }
}

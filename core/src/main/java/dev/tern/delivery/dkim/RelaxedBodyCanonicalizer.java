package dev.tern.delivery.dkim;

import java.nio.ByteBuffer;

/**
 * The "relaxed" body canonicalization of RFC 6376 3.4.4, applied to a body that arrives in pieces. A line ends at
 * CRLF, and also at a bare CR or a bare LF: Tern's SMTP client sends each of those as CRLF (a bare one never leaves
 * Tern), so the signature covers the body as the receiver gets it.
 *
 * <ul>
 *   <li>whitespace (SP, HTAB) at the end of a line is removed;</li>
 *   <li>each other run of whitespace becomes one SP;</li>
 *   <li>empty lines at the end of the body are removed: line ends are held back and written only when more
 *       content follows, so the number of trailing empty lines never matters;</li>
 *   <li>a non-empty body always ends with CRLF (one is added when the last line has none, 3.4.4 and errata 1384);
 *       an empty body (or one of only empty lines) canonicalizes to nothing.</li>
 * </ul>
 *
 * <p>A last line without CRLF loses its trailing whitespace too: the SMTP client adds that CRLF before the final
 * dot (RFC 5321 4.1.1.4), so this is the body the receiver verifies (Mail::DKIM agrees; dkimpy, verifying the bare
 * form without the CRLF, would keep the whitespace).
 *
 * <p>Threading: not thread-safe; one instance per message. Input buffers are only read: their position and limit
 * are left unchanged.
 */
final class RelaxedBodyCanonicalizer {
    /** Where canonical bytes go (a {@link java.security.MessageDigest#update(byte[], int, int)} in production). */
    @FunctionalInterface
    interface Sink {
        void write(byte[] bytes, int offset, int length);
    }

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte SP = ' ';
    private static final byte HTAB = '\t';
    private static final int BLOCK = 8192;

    private final Sink sink;
    private final byte[] in = new byte[BLOCK];
    private final byte[] out = new byte[BLOCK];
    private int outLength;

    /** The previous byte was a CR, which ended the line: an LF right after it belongs to the same line end. */
    private boolean afterCr;
    /** Whitespace was seen after the last content byte of this line: one SP if content follows, else dropped. */
    private boolean pendingSpace;
    /** Line ends not written yet: they are trailing empty lines unless content follows. */
    private long pendingLineEnds;
    private boolean anyContent;

    RelaxedBodyCanonicalizer(Sink sink) {
        this.sink = sink;
    }

    /** The header block ended with a bare CR: an LF starting the body completes that line end, not a new one. */
    void startAfterCr() {
        afterCr = true;
    }

    /** Canonicalizes the bytes between {@code from} and {@code to} of {@code buffer} (absolute indexes). */
    void update(ByteBuffer buffer, int from, int to) {
        int pos = from;
        while (pos < to) {
            int n = Math.min(BLOCK, to - pos);
            buffer.get(pos, in, 0, n);
            update(in, 0, n);
            pos += n;
        }
    }

    void update(byte[] bytes, int offset, int length) {
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            byte c = bytes[i];
            boolean lfOfCrlf = afterCr && c == LF;
            afterCr = c == CR;
            if (c == CR || c == LF) {
                if (!lfOfCrlf) {
                    pendingSpace = false;
                    pendingLineEnds++;
                }
            } else if (c == SP || c == HTAB) {
                pendingSpace = true;
            } else {
                content(c);
            }
        }
    }

    /** Ends the body: writes the final CRLF of a non-empty body and flushes everything to the sink. */
    void finish() {
        if (anyContent) {
            // Either the last content line ended (its CRLF is the first held back) or it had no CRLF (one is added).
            put(CR);
            put(LF);
        }
        pendingLineEnds = 0;
        pendingSpace = false;
        flush();
    }

    private void content(byte c) {
        while (pendingLineEnds > 0) {
            put(CR);
            put(LF);
            pendingLineEnds--;
        }
        if (pendingSpace) {
            put(SP);
            pendingSpace = false;
        }
        put(c);
        anyContent = true;
    }

    private void put(byte c) {
        if (outLength == out.length) {
            flush();
        }
        out[outLength++] = c;
    }

    private void flush() {
        if (outLength > 0) {
            sink.write(out, 0, outLength);
            outLength = 0;
        }
    }
}

package dev.tern.protocol;

import java.nio.ByteBuffer;

/**
 * The output side shared by {@link DataDecoder} and {@link BdatDecoder}: writes decoded octets into the caller's
 * buffer, holding back the few that do not fit (a decoder may produce up to 4 octets for one input octet, e.g. "."
 * CR LF after a bare line ending), counts the content octets, and keeps the three reasons to refuse the message. Once
 * a reason is set, nothing more is written, but counting goes on so the decoder can keep consuming in step with the
 * client and the session answers once, at the end.
 *
 * <p>Threading: not thread-safe; owned by one decoder. No allocation.
 */
public final class ContentOutput {
    private final long maxMessageSize;
    private final int maxLine;
    /** Octets that did not fit in the output; at most 4 are added per input octet. */
    private final byte[] held = new byte[8];
    private int heldStart;
    private int heldEnd;

    private long contentLength;
    private boolean tooBig;
    private boolean lineTooLong;
    private boolean badLineEnding;
    /** Any reason set: no more output. */
    private boolean discarding;

    /**
     * @param maxMessageSize content octets accepted
     * @param maxLine        octets in a content line, CRLF included (RFC 5321 4.5.3.1.6: 1000)
     */
    ContentOutput(long maxMessageSize, int maxLine) {
        this.maxMessageSize = maxMessageSize;
        this.maxLine = maxLine;
    }

    /** Forgets the previous message: no octets held or counted, no reason to refuse. */
    void reset() {
        heldStart = 0;
        heldEnd = 0;
        contentLength = 0;
        tooBig = false;
        lineTooLong = false;
        badLineEnding = false;
        discarding = false;
    }

    /** Writes {@code b} (already counted) unless discarding; holds it back if {@code out} is full. */
    void write(byte b, ByteBuffer out) {
        if (discarding) {
            return;
        }
        if (heldEnd == 0 && out.hasRemaining()) {
            out.put(b);
        } else {
            held[heldEnd++] = b;
        }
    }

    /** Bulk-copies {@code in[p, p + n)} (already counted, fits in {@code out}, nothing held) unless discarding. */
    void copy(ByteBuffer in, int p, int n, ByteBuffer out) {
        if (!discarding) {
            out.put(out.position(), in, p, n);
            out.position(out.position() + n);
        }
    }

    /** Writes held-back octets; true when none are left. */
    boolean flushHeld(ByteBuffer out) {
        while (heldStart < heldEnd && out.hasRemaining()) {
            out.put(held[heldStart++]);
        }
        if (heldStart < heldEnd) {
            return false;
        }
        heldStart = 0;
        heldEnd = 0;
        return true;
    }

    /** True while octets are held back: the caller must report OUTPUT_FULL before producing more. */
    boolean holding() {
        return heldEnd > 0;
    }

    /** Counts {@code n} content octets, refusing the message once the total passes the limit. */
    void count(long n) {
        contentLength += n;
        if (contentLength > maxMessageSize) {
            refuseTooBig();
        }
    }

    /** Counts {@code n} content octets without checking the limit (checked in advance, as for BDAT). */
    void countUnchecked(long n) {
        contentLength += n;
    }

    /** Refuses the message if a line of {@code lineLength} octets (CRLF excluded) is over the limit. */
    void checkLine(long lineLength) {
        if (lineLength > maxLine - 2) {
            refuseLineTooLong();
        }
    }

    void refuseLineTooLong() {
        lineTooLong = true;
        discarding = true;
    }

    void refuseTooBig() {
        tooBig = true;
        discarding = true;
    }

    void refuseBadLineEnding() {
        badLineEnding = true;
        discarding = true;
    }

    /** True if output has stopped: the message will be refused. */
    boolean discarding() {
        return discarding;
    }

    /** Content octets so far, counting any discarded after a reason was set. */
    public long contentLength() {
        return contentLength;
    }

    public boolean tooBig() {
        return tooBig;
    }

    public boolean lineTooLong() {
        return lineTooLong;
    }

    public boolean badLineEnding() {
        return badLineEnding;
    }

    /**
     * Why the message must be refused, or null if it is acceptable. When several reasons hold, a bad line ending
     * comes first (it is the one that matters for smuggling), then the size, then the line length.
     */
    public ContentRefusal refusal() {
        if (badLineEnding) {
            return ContentRefusal.BAD_LINE_ENDING;
        } else if (tooBig) {
            return ContentRefusal.TOO_BIG;
        } else if (lineTooLong) {
            return ContentRefusal.LINE_TOO_LONG;
        }
        return null;
    }

    public long maxMessageSize() {
        return maxMessageSize;
    }

    public int maxLine() {
        return maxLine;
    }
}

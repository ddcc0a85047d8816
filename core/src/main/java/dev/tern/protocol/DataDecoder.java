package dev.tern.protocol;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;

/**
 * Decodes DATA content (RFC 5321 4.1.1.4, 4.5.2): removes dot-stuffing and finds the end of data, which is only ever
 * CRLF "." CRLF. A bare LF or bare CR never ends a line, so {@code \n.\n}, {@code \r.\r}, {@code \n.\r\n},
 * {@code \r\n.\n} and every mix of them are content, not a terminator (the SMTP smuggling family, CVE-2023-51764).
 *
 * <p>Statuses of {@link #decode}: {@link #NEED_INPUT} ({@code in} drained), {@link #OUTPUT_FULL} ({@code out} is full:
 * call again with fresh space; no octet is lost), {@link #END} (CRLF.CRLF seen; {@code in}'s position is just past
 * it, and what follows is the next pipelined command). The output is the unstuffed content with CRLF line endings,
 * including the CRLF of the last line and excluding the terminating ".CRLF".
 *
 * <p>After {@link #END}, check {@link #tooBig()}, {@link #lineTooLong()} and {@link #badLineEnding()}: once one is set
 * the decoder stops writing output but keeps scanning for the real terminator, so the session stays in step with the
 * client and can refuse the message with one reply. Under {@link LineEndingPolicy#NORMALIZE} a bare LF or CR is
 * written as CRLF and {@link #badLineEnding()} stays false.
 *
 * <p>State is carried across calls, so any split of the input gives the same result. Reads only
 * [position, limit) of {@code in}; writes only [position, limit) of {@code out}.
 *
 * <p>Threading: not thread-safe; one instance per session, {@link #reset()} before each message. No allocation.
 */
public final class DataDecoder {
    public static final int NEED_INPUT = 0;
    public static final int OUTPUT_FULL = 1;
    public static final int END = 2;

    private final long maxMessageSize;
    private final int maxLine;
    private final LineEndingPolicy policy;

    private long contentLength;
    private boolean tooBig;
    private boolean lineTooLong;
    private boolean badLineEnding;

    /**
     * @param maxMessageSize content octets accepted (after unstuffing, CRLFs included)
     * @param maxLine        octets in a content line, CRLF included (RFC 5321 4.5.3.1.6: 1000)
     */
    public DataDecoder(long maxMessageSize, int maxLine, LineEndingPolicy policy) {
        this.maxMessageSize = maxMessageSize;
        this.maxLine = maxLine;
        this.policy = policy;
        reset();
    }

    /** Prepares for a new message. */
    public void reset() {
        contentLength = 0;
        tooBig = false;
        lineTooLong = false;
        badLineEnding = false;
    }

    public int decode(ByteBuffer in, ByteBuffer out) {
        return NEED_INPUT;
    }

    /** Content octets seen so far (after unstuffing, CRLF included), counting any discarded excess. */
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

    /** True if any flag is set: the message must be refused. */
    public boolean rejected() {
        return tooBig || lineTooLong || badLineEnding;
    }

    public long maxMessageSize() {
        return maxMessageSize;
    }

    public int maxLine() {
        return maxLine;
    }

    public LineEndingPolicy policy() {
        return policy;
    }
}

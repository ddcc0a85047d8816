package dev.tern.protocol;

import static dev.tern.protocol.Bytes.CR;
import static dev.tern.protocol.Bytes.LF;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;

/**
 * Decodes DATA content (RFC 5321 4.1.1.4, 4.5.2): removes dot-stuffing and finds the end of data, which is only ever
 * CRLF "." CRLF. A bare LF or bare CR never ends a line, so {@code \n.\n}, {@code \r.\r}, {@code \n.\r\n},
 * {@code \r\n.\n} and every mix of them are content, not a terminator (the SMTP smuggling family, CVE-2023-51764).
 *
 * <p>Statuses of {@link #decode}: {@link #NEED_INPUT} ({@code in} drained), {@link #OUTPUT_FULL} ({@code out} is full:
 * call again with fresh space; no octet is lost, the few octets that did not fit are held back internally),
 * {@link #END} (CRLF.CRLF seen; {@code in}'s position is just past it, and what follows is the next pipelined
 * command). The output is the unstuffed content with CRLF line endings, including the CRLF of the last line and
 * excluding the terminating ".CRLF". The CRLF right after the DATA command's 354 counts as a line start, so an empty
 * message is just ".CRLF".
 *
 * <p>After {@link #END}, check {@link #refusal()} (or the flags {@link #tooBig()}, {@link #lineTooLong()} and
 * {@link #badLineEnding()}; output, counting and flags are a {@link ContentOutput}, shared with BDAT): once one is
 * set the decoder stops writing output but keeps scanning for the real terminator, so the session stays in step with
 * the client and refuses the message with one reply. Under {@link LineEndingPolicy#NORMALIZE} a bare LF or CR is
 * written as CRLF and {@link #badLineEnding()} stays false; the line after a bare line ending is unstuffed like any
 * other but is never a terminator, even if it is exactly "." CRLF.
 *
 * <p>State is carried across calls, so any split of the input gives the same result. Reads only [position, limit) of
 * {@code in}; writes only [position, limit) of {@code out}, filling it completely before answering OUTPUT_FULL.
 *
 * <p>Threading: not thread-safe; one instance per session, {@link #reset()} before each message. No allocation.
 */
public final class DataDecoder {
    public static final int NEED_INPUT = 0;
    public static final int OUTPUT_FULL = 1;
    public static final int END = 2;

    /** At the start of a line: the first one, after CRLF, or (not terminable) after a bare line ending. */
    private static final int LINE_START = 0;
    /** Saw "." at the start of a line. */
    private static final int DOT = 1;
    /** Saw "." CR at the start of a line. */
    private static final int DOT_CR = 2;
    /** Inside a line. */
    private static final int MID = 3;
    /** Saw a CR inside a line, not yet known to be followed by LF. */
    private static final int PENDING_CR = 4;

    private final LineEndingPolicy policy;
    /** Held-back octets, the content count and the reasons to refuse. */
    private final ContentOutput output;
    /** Octets allowed in a line, CRLF excluded; kept here as well because the run copy checks it per line. */
    private final int maxLineOctets;

    private int state;
    /** Whether the current line start follows a real CRLF (or the start of data), so ".CRLF" here ends data. */
    private boolean terminable;
    /** Wire octets of the current line so far, CRLF excluded, a stuffing dot included. */
    private int lineLength;

    /**
     * @param maxMessageSize content octets accepted (after unstuffing, CRLFs included)
     * @param maxLine        octets in a content line, CRLF included (RFC 5321 4.5.3.1.6: 1000)
     */
    public DataDecoder(long maxMessageSize, int maxLine, LineEndingPolicy policy) {
        if (maxMessageSize < 0 || maxLine < 3) {
            throw new IllegalArgumentException("maxMessageSize >= 0 and maxLine >= 3");
        }
        this.output = new ContentOutput(maxMessageSize, maxLine);
        this.maxLineOctets = maxLine - 2;
        this.policy = policy;
        reset();
    }

    /** Prepares for a new message. */
    public void reset() {
        state = LINE_START;
        terminable = true;
        lineLength = 0;
        output.reset();
    }

    /** Consumes content from {@code in} and writes unstuffed content to {@code out}; see the class comment. */
    public int decode(ByteBuffer in, ByteBuffer out) {
        if (!output.flushHeld(out)) {
            return OUTPUT_FULL;
        }
        int p = in.position();
        int limit = in.limit();
        while (p < limit) {
            if (output.holding()) {
                in.position(p);
                return OUTPUT_FULL;
            }
            byte b = in.get(p);
            switch (state) {
                case LINE_START -> {
                    if (b == '.') {
                        lineLength = 1;
                        state = DOT;
                        p++;
                    } else if (b == CR) {
                        state = PENDING_CR;
                        p++;
                    } else if (b == LF) {
                        bareLineEnding(out);
                        p++;
                    } else {
                        state = MID;
                    }
                }
                case DOT -> {
                    if (b == CR) {
                        state = DOT_CR;
                        p++;
                    } else if (b == LF) {
                        // "." then a bare LF: the line holds just the dot, which is content, not a terminator.
                        lineLength = 0;
                        emit('.', out);
                        bareLineEnding(out);
                        p++;
                    } else {
                        // RFC 5321 4.5.2: a leading dot with more on the line is removed; the octet is reread in MID.
                        state = MID;
                    }
                }
                case DOT_CR -> {
                    if (b == LF && terminable) {
                        in.position(p + 1);
                        state = LINE_START;
                        return END;
                    }
                    // A line holding just a dot, but not the terminator: "." CRLF after a bare line ending, or "."
                    // then a bare CR (whose next octet is reread at a line start).
                    lineLength = 0;
                    emit('.', out);
                    if (b == LF) {
                        endLine(out);
                        p++;
                    } else {
                        bareLineEnding(out);
                    }
                }
                case PENDING_CR -> {
                    if (b == LF) {
                        endLine(out);
                        p++;
                    } else {
                        bareLineEnding(out); // the CR was bare; the octet is reread at a line start
                    }
                }
                default -> {
                    if (b == CR) {
                        state = PENDING_CR;
                        p++;
                    } else if (b == LF) {
                        bareLineEnding(out);
                        p++;
                    } else {
                        p = copyRun(in, p, limit, out);
                    }
                }
            }
        }
        in.position(p);
        return output.holding() ? OUTPUT_FULL : NEED_INPUT;
    }

    /**
     * Copies, in one bulk transfer, the run starting at p (in MID): octets up to the next CR or LF, extended over
     * every "CRLF + ordinary octet" (a complete line followed by a line that starts with neither "." nor CR/LF, where
     * the state machine would only pass through PENDING_CR and LINE_START). Returns the new input index.
     */
    private int copyRun(ByteBuffer in, int p, int limit, ByteBuffer out) {
        int end = output.discarding() ? limit : p + Math.min(limit - p, out.remaining());
        if (end == p) {
            // out is full: hold one octet so the caller is told OUTPUT_FULL and progress is still made.
            emit(in.get(p), out);
            return p + 1;
        }
        int lineStart = p - lineLength; // virtual: where the current line began, for the length check
        int q = p;
        while (true) {
            q = Bytes.indexOfCrOrLf(in, q, end);
            if (q - lineStart > maxLineOctets) {
                output.refuseLineTooLong();
            }
            if (q + 2 < end && in.get(q) == CR && in.get(q + 1) == LF) {
                byte next = in.get(q + 2);
                if (next != '.' && next != CR && next != LF) {
                    lineStart = q + 2;
                    q += 2;
                    continue;
                }
            }
            break;
        }
        int n = q - p;
        lineLength = q - lineStart;
        output.count(n);
        output.copy(in, p, n, out);
        return q;
    }

    /** Writes the CRLF that ends a content line; the next octet starts a line where "." CRLF may terminate. */
    private void endLine(ByteBuffer out) {
        emit(CR, out);
        emit(LF, out);
        lineLength = 0;
        state = LINE_START;
        terminable = true;
    }

    /**
     * A bare LF or CR: refused under REJECT, written as CRLF under NORMALIZE. What follows starts a line for
     * dot-unstuffing (a client that ends lines with bare LF still stuffs them) but can never be the terminator, which
     * needs a real CRLF before the dot.
     */
    private void bareLineEnding(ByteBuffer out) {
        if (policy == LineEndingPolicy.NORMALIZE) {
            emit(CR, out);
            emit(LF, out);
        } else {
            output.refuseBadLineEnding();
        }
        lineLength = 0;
        state = LINE_START;
        terminable = false;
    }

    private void emit(byte b, ByteBuffer out) {
        if (b != CR && b != LF) {
            lineLength++;
            if (lineLength > maxLineOctets) {
                output.refuseLineTooLong();
            }
        }
        output.count(1);
        output.write(b, out);
    }

    private void emit(char c, ByteBuffer out) {
        emit((byte) c, out);
    }

    /** Content octets seen so far (after unstuffing, CRLFs included), counting any discarded excess. */
    public long contentLength() {
        return output.contentLength();
    }

    /** The content exceeded maxMessageSize (552 5.3.4). */
    public boolean tooBig() {
        return output.tooBig();
    }

    /** A content line exceeded maxLine octets (RFC 5321 4.5.3.1.6). */
    public boolean lineTooLong() {
        return output.lineTooLong();
    }

    /** Under REJECT: a bare LF or CR was seen and the message must be refused. Always false under NORMALIZE. */
    public boolean badLineEnding() {
        return output.badLineEnding();
    }

    /** True if any flag is set: the message must be refused. */
    public boolean rejected() {
        return output.discarding();
    }

    /** Why the message must be refused, or null; see {@link ContentOutput#refusal()}. */
    public ContentRefusal refusal() {
        return output.refusal();
    }

    public long maxMessageSize() {
        return output.maxMessageSize();
    }

    public int maxLine() {
        return output.maxLine();
    }

    public LineEndingPolicy policy() {
        return policy;
    }
}

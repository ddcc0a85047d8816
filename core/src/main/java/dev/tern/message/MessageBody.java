package dev.tern.message;

import dev.tern.buffer.BufferPool;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The content of one message while it is being received: a chain of pooled direct buffers, each filled from
 * position 0 to its limit. The bytes are the message as it will be stored and delivered: the {@code Received:}
 * trace header first, then the client's content after dot-unstuffing, every line ending in CRLF.
 *
 * <p>Threading: owned by one session; handed to the journal writer while the session waits for the commit, then
 * given back. Ownership of the chunks stays here: {@link #release()} returns them all to the pool and must be called
 * on every path (accepted, rejected, aborted).
 */
public final class MessageBody {
    private final BufferPool pool;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    private ByteBuffer current;
    private long length;

    public MessageBody(BufferPool pool) {
        this.pool = pool;
    }

    /**
     * The buffer to write the next bytes into (position at the first free byte), acquiring a new chunk when the
     * current one is full. Returns {@code null} when the pool is exhausted: the caller answers 451 4.3.0.
     */
    public ByteBuffer writable() {
        if (current == null || !current.hasRemaining()) {
            sealCurrent();
            current = pool.acquire();
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /** Appends bytes from a heap array (used for the trace header). Returns false when the pool is exhausted. */
    public boolean append(byte[] src, int offset, int len) {
        while (len > 0) {
            ByteBuffer dst = writable();
            if (dst == null) {
                return false;
            }
            int n = Math.min(len, dst.remaining());
            dst.put(src, offset, n);
            offset += n;
            len -= n;
        }
        return true;
    }

    /** Finishes writing: afterwards {@link #chunks()} is complete and each chunk is flipped for reading. */
    public void seal() {
        sealCurrent();
    }

    private void sealCurrent() {
        if (current != null) {
            current.flip();
            length += current.remaining();
            if (current.hasRemaining()) {
                chunks.add(current);
            } else {
                pool.release(current);
            }
            current = null;
        }
    }

    /** Read-only use after {@link #seal()}: each chunk holds bytes from position to limit; do not modify them. */
    public List<ByteBuffer> chunks() {
        return chunks;
    }

    /** Total bytes after {@link #seal()}. */
    public long length() {
        return length;
    }

    /** Returns every chunk to the pool and empties the body for the next message. Idempotent. */
    public void release() {
        for (int i = 0; i < chunks.size(); i++) { // indexed: an iterator would be an allocation per message
            pool.release(chunks.get(i));
        }
        chunks.clear();
        pool.release(current);
        current = null;
        length = 0;
    }
}

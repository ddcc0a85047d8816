package dev.tern.buffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import org.jctools.queues.MpmcArrayQueue;

/**
 * A bounded pool of equally sized direct {@link ByteBuffer}s carved from a few large slabs.
 *
 * <p>Threading: {@link #acquire()} and {@link #release(ByteBuffer)} may be called from any thread; the free list is a
 * lock-free JCTools MPMC queue. Ownership: a buffer belongs to whoever acquired it until it is released, exactly once;
 * every code path that acquires (errors and disconnects included) must release in a {@code finally}.
 * {@link #outstanding()} is the leak check tests use: it is zero when every buffer is home.
 *
 * <p>The pool starts with {@code pooled} buffers and grows on demand by up to {@code overflowLimit} more, which it
 * then keeps: a buffer is allocated (and zeroed by the JVM) at most once, so a busy relay reaches a steady state with
 * no allocation at all. Once every buffer is taken, {@link #acquire()} returns {@code null}: callers treat that as a
 * local resource failure (a 4xx reply), never as a reason to block the session.
 */
public final class BufferPool {
    private final int bufferSize;
    private final int overflowLimit;
    private final MpmcArrayQueue<ByteBuffer> free;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicInteger overflow = new AtomicInteger();

    /**
     * @param bufferSize    bytes per buffer
     * @param pooled        buffers pre-allocated up front (carved from slabs of at most 64 MiB)
     * @param overflowLimit extra buffers that may be allocated, and are then kept, when the pool runs dry
     */
    public BufferPool(int bufferSize, int pooled, int overflowLimit) {
        if (bufferSize <= 0 || pooled < 0 || overflowLimit < 0) {
            throw new IllegalArgumentException("bufferSize > 0, pooled >= 0, overflowLimit >= 0");
        }
        this.bufferSize = bufferSize;
        this.overflowLimit = overflowLimit;
        // Room for every buffer the pool may ever own, so that a returned overflow buffer is kept, not dropped.
        this.free = new MpmcArrayQueue<>(Math.max(2, pooled + overflowLimit));
        int perSlab = Math.max(1, (64 << 20) / bufferSize);
        int left = pooled;
        while (left > 0) {
            int n = Math.min(perSlab, left);
            ByteBuffer slab = ByteBuffer.allocateDirect(n * bufferSize);
            for (int i = 0; i < n; i++) {
                free.offer(slab.slice(i * bufferSize, bufferSize));
            }
            left -= n;
        }
    }

    /** A cleared buffer, or {@code null} when both the pool and the overflow allowance are exhausted. */
    public ByteBuffer acquire() {
        ByteBuffer b = free.poll();
        if (b == null) {
            if (overflow.incrementAndGet() > overflowLimit) {
                overflow.decrementAndGet();
                return null;
            }
            try {
                b = ByteBuffer.allocateDirect(bufferSize);
            } catch (OutOfMemoryError e) {
                // -XX:MaxDirectMemorySize reached: a local resource failure like an empty pool, not a crash.
                overflow.decrementAndGet();
                return null;
            }
        }
        outstanding.incrementAndGet();
        return b.clear();
    }

    /** Returns a buffer obtained from {@link #acquire()}; {@code null} is ignored so finally blocks stay simple. */
    public void release(ByteBuffer b) {
        if (b == null) {
            return;
        }
        if (outstanding.decrementAndGet() < 0) {
            // More releases than acquires: a double release, which would give one buffer two owners.
            outstanding.incrementAndGet();
            throw new IllegalStateException("buffer released more often than acquired");
        }
        if (!free.offer(b)) {
            throw new IllegalStateException("free list full: a buffer that did not come from this pool");
        }
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** Buffers waiting in the free list (pre-allocated ones plus returned overflow ones). */
    public int available() {
        return free.size();
    }

    /** Overflow buffers allocated beyond the pre-allocated ones (in use or back in the free list). */
    public int overflowInUse() {
        return overflow.get();
    }

    /** Buffers currently acquired and not yet released. */
    public int outstanding() {
        return outstanding.get();
    }
}

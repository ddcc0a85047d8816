package dev.tern.io;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces I/O deadlines for connections served or driven by virtual threads. A blocking {@code SocketChannel} read
 * on a virtual thread ignores {@code SO_TIMEOUT} (JDK 25), so one platform thread scans the registered connections
 * every {@code period} and tells each one whose deadline has passed ({@link Expirable#expire}). An SMTP session wakes
 * its blocked read and answers 421 4.4.2 (RFC 5321 4.5.3.2); an outbound connection closes, and its worker defers
 * the recipients.
 *
 * <p>Threading: {@link #register}/{@link #unregister} from any thread; {@link Expirable#expire} is called on the
 * sweeper thread and must not block.
 */
public final class DeadlineSweeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadlineSweeper.class);

    /** Something with a deadline on {@link System#nanoTime()}'s clock. */
    public interface Expirable {
        /** The deadline, or {@link Long#MAX_VALUE} when none is armed. */
        long deadlineNanos();

        /** Called (possibly repeatedly, once per sweep) while the deadline has passed. Must not block. */
        void expire(long nowNanos);
    }

    private final Set<Expirable> registered = ConcurrentHashMap.newKeySet();
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean running = true;

    public DeadlineSweeper(Duration period) {
        this.periodNanos = Math.max(1_000_000L, period.toNanos());
        this.thread = Thread.ofPlatform().daemon().name("tern-deadlines").unstarted(this::run);
        thread.start();
    }

    /** A sweep period suited to the shortest timeout: a tenth of it, between 5 ms and 1 s. */
    public static Duration periodFor(Duration shortestTimeout) {
        long ms = Math.clamp(shortestTimeout.toMillis() / 10, 5L, 1000L);
        return Duration.ofMillis(ms);
    }

    public void register(Expirable e) {
        registered.add(e);
    }

    public void unregister(Expirable e) {
        registered.remove(e);
    }

    public int registeredCount() {
        return registered.size();
    }

    private void run() {
        while (running) {
            LockSupport.parkNanos(periodNanos);
            long now = System.nanoTime();
            for (Expirable e : registered) {
                long deadline = e.deadlineNanos();
                if (deadline != Long.MAX_VALUE && now - deadline >= 0) {
                    try {
                        e.expire(now);
                    } catch (RuntimeException ex) {
                        LOG.warn("deadline expiry failed", ex);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

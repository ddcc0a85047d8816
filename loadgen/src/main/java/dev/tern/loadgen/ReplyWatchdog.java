package dev.tern.loadgen;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Enforces the reply timeout of the workers' connections from one thread, so that their reads can block plainly:
 * a socket read with {@code SO_TIMEOUT} costs a non-blocking read, a poll and a second read (and a timer on a
 * virtual thread), where a plain blocking read is one system call. A connection blocked in one read or write for
 * longer than the timeout is closed, and its reader sees a {@link java.net.SocketTimeoutException}.
 *
 * <p>Thread-safe: workers register and deregister their connections from any thread; the watchdog runs on its own
 * daemon thread until {@link #close()}.
 */
final class ReplyWatchdog implements AutoCloseable {
    private static final long MAX_PERIOD_NANOS = 100_000_000L;

    private final Set<SmtpClient> watched = ConcurrentHashMap.newKeySet();
    private final long timeoutNanos;
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean closed;

    ReplyWatchdog(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        // A tenth of the timeout: a stuck read is cut at most 10% late.
        this.periodNanos = Math.clamp(timeoutNanos / 10, 1_000_000L, MAX_PERIOD_NANOS);
        this.thread = Thread.ofPlatform().daemon().name("tern-loadgen-watchdog").start(this::watch);
    }

    void watch(SmtpClient client) {
        watched.add(client);
    }

    void forget(SmtpClient client) {
        watched.remove(client);
    }

    private void watch() {
        while (!closed) {
            LockSupport.parkNanos(periodNanos);
            long now = System.nanoTime();
            for (SmtpClient c : watched) {
                if (c.expireIfBlockedSince(now - timeoutNanos)) {
                    watched.remove(c);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}

package dev.tern.loadgen;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Enforces the connect and reply timeouts of the workers' connections from one thread, so that their sockets can
 * stay in blocking mode: a read with {@code SO_TIMEOUT} costs a non-blocking read, a poll and a second read (and a
 * timer on a virtual thread), where a plain blocking read is one system call. A connection whose blocking call has
 * passed its deadline is closed, and its owner sees a {@link java.net.SocketTimeoutException}.
 *
 * <p>Thread-safe: workers register and deregister their connections from any thread; the watchdog runs on its own
 * daemon thread until {@link #close()}.
 */
final class TimeoutWatchdog implements AutoCloseable {
    private static final long MAX_PERIOD_NANOS = 100_000_000L;

    private final Set<SmtpClient> watched = ConcurrentHashMap.newKeySet();
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean closed;

    /** @param shortestTimeout the shortest timeout it enforces: it looks ten times as often, so cuts 10% late */
    TimeoutWatchdog(Duration shortestTimeout) {
        this.periodNanos = Math.clamp(shortestTimeout.toNanos() / 10, 1_000_000L, MAX_PERIOD_NANOS);
        this.thread = Thread.ofPlatform().daemon().name("tern-loadgen-watchdog").start(this::run);
    }

    void watch(SmtpClient client) {
        watched.add(client);
    }

    void forget(SmtpClient client) {
        watched.remove(client);
    }

    private void run() {
        while (!closed) {
            LockSupport.parkNanos(periodNanos);
            long now = System.nanoTime();
            for (SmtpClient c : watched) {
                if (c.expireIfPast(now)) {
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

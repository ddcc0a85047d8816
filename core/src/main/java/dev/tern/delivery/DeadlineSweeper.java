package dev.tern.delivery;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Enforces outbound read/write deadlines. A blocking channel operation on a virtual thread ignores socket timeouts
 * (see DEPENDENCIES.md), so one thread wakes a few times a second and closes every connection whose current operation
 * is overdue; the blocked worker then fails at once and defers its recipients.
 *
 * <p>Threading: {@link #watch}/{@link #forget} from any thread; one daemon virtual thread sweeps.
 */
final class DeadlineSweeper implements AutoCloseable {
    private final Set<OutboundConnection> watched = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean running = true;

    DeadlineSweeper(long periodMillis) {
        thread = Thread.ofVirtual().name("tern-delivery-deadlines").start(() -> {
            while (running) {
                try {
                    TimeUnit.MILLISECONDS.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (OutboundConnection c : watched) {
                    c.expireIfOverdue(now);
                }
            }
        });
    }

    void watch(OutboundConnection c) {
        watched.add(c);
    }

    void forget(OutboundConnection c) {
        watched.remove(c);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}

package dev.tern.delivery;

import dev.tern.config.DeliverySettings;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One delivery destination (a recipient domain, or the smarthost): its ready queue, its shaping limits and rate,
 * its workers, counters and back-off. A destination that answers 421 or a run of temporary failures is backed off on
 * its own; other destinations are not slowed by it.
 *
 * <p>Threading: any thread; counters are atomic, the back-off state is updated under this object's monitor.
 */
final class Destination {
    final String name;
    /** The name of each of its worker threads. */
    final String workerName;
    final DeliverySettings.Limits limits;
    final RateLimiter rate;
    final ConcurrentLinkedQueue<DeliveryJob> ready = new ConcurrentLinkedQueue<>();
    final AtomicInteger workers = new AtomicInteger();
    final LongAdder delivered = new LongAdder();
    final LongAdder deferred = new LongAdder();
    final LongAdder bounced = new LongAdder();
    private volatile long backoffUntilMillis;
    private int consecutiveFailures;

    Destination(String name, DeliverySettings.Limits limits) {
        this.name = name;
        this.workerName = "tern-delivery-" + name;
        this.limits = limits;
        this.rate = new RateLimiter(limits.messagesPerSecond(), limits.messagesPerMinute());
    }

    long backoffUntil() {
        return backoffUntilMillis;
    }

    synchronized void succeeded() {
        consecutiveFailures = 0;
    }

    /** A transaction (or connection) failed temporarily; enough of them in a row, or one 421, back it off. */
    synchronized void failedTemporarily(boolean serviceClosing, int threshold, long backoffMillis, long nowMillis) {
        consecutiveFailures++;
        if (serviceClosing || consecutiveFailures >= threshold) {
            backoffUntilMillis = nowMillis + backoffMillis;
            consecutiveFailures = 0;
        }
    }

    synchronized void clearBackoff() {
        backoffUntilMillis = 0;
        consecutiveFailures = 0;
    }
}

package dev.tern.delivery;

import java.util.concurrent.TimeUnit;

/**
 * Spaces transaction starts to a destination evenly: with {@code perSecond} and/or {@code perMinute} limits, starts
 * are at least {@code max(1 s / perSecond, 1 min / perMinute)} apart, so no window of that length ever holds more
 * than the limit (no bursts). Zero for both means unlimited.
 *
 * <p>Threading: any thread; {@link #acquire()} sleeps the calling (virtual) thread until its slot.
 */
final class RateLimiter {
    private final long intervalNanos;
    private long nextSlotNanos;

    RateLimiter(int perSecond, int perMinute) {
        long a = perSecond > 0 ? TimeUnit.SECONDS.toNanos(1) / perSecond : 0;
        long b = perMinute > 0 ? TimeUnit.MINUTES.toNanos(1) / perMinute : 0;
        this.intervalNanos = Math.max(a, b);
    }

    boolean unlimited() {
        return intervalNanos == 0;
    }

    /** Waits for the next start slot. */
    void acquire() throws InterruptedException {
        if (intervalNanos == 0) {
            return;
        }
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            long slot = Math.max(now, nextSlotNanos);
            nextSlotNanos = slot + intervalNanos;
            wait = slot - now;
        }
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}

package dev.tern.delivery;

import java.time.Duration;
import java.util.List;

/**
 * When to try a deferred recipient again, and when to give up: the n-th failed attempt waits
 * {@code schedule[min(n, size) - 1]} (the last delay repeats); a message older than the maximum lifetime bounces
 * instead (RFC 5321 4.5.4.1 suggests at least 4-5 days).
 *
 * <p>Threading: immutable.
 */
final class RetryPolicy {
    private final long[] delaysMillis;
    private final long maxLifetimeMillis;

    RetryPolicy(List<Duration> schedule, Duration maxLifetime) {
        if (schedule.isEmpty()) {
            throw new IllegalArgumentException("empty retry schedule");
        }
        this.delaysMillis = schedule.stream().mapToLong(Duration::toMillis).toArray();
        this.maxLifetimeMillis = maxLifetime.toMillis();
    }

    /** The delay after the given number of attempts made so far (at least 1). */
    long delayAfter(int attempts) {
        int i = Math.min(Math.max(attempts, 1), delaysMillis.length) - 1;
        return delaysMillis[i];
    }

    /** Whether a message received at {@code receivedAtMillis} has run out of time at {@code nowMillis}. */
    boolean expired(long receivedAtMillis, long nowMillis) {
        return nowMillis - receivedAtMillis >= maxLifetimeMillis;
    }
}

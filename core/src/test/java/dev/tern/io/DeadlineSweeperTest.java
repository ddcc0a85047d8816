package dev.tern.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeadlineSweeperTest {

    /** A deadline that can be armed and counts its expiries. */
    private static final class Deadline implements DeadlineSweeper.Expirable {
        volatile long at = Long.MAX_VALUE;
        final AtomicInteger expiries = new AtomicInteger();
        final CountDownLatch expired = new CountDownLatch(1);

        @Override
        public long deadlineNanos() {
            return at;
        }

        @Override
        public void expire(long nowNanos) {
            at = Long.MAX_VALUE;
            expiries.incrementAndGet();
            expired.countDown();
        }
    }

    @Test
    void expiresOnlyPassedDeadlines() throws InterruptedException {
        try (DeadlineSweeper sweeper = new DeadlineSweeper(Duration.ofMillis(5))) {
            Deadline soon = new Deadline();
            Deadline later = new Deadline();
            Deadline unarmed = new Deadline();
            sweeper.register(soon);
            sweeper.register(later);
            sweeper.register(unarmed);
            later.at = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            soon.at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            assertThat(soon.expired.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(later.expiries.get()).isZero();
            assertThat(unarmed.expiries.get()).isZero();
        }
    }

    @Test
    void unregisteredIsNeverExpired() throws InterruptedException {
        try (DeadlineSweeper sweeper = new DeadlineSweeper(Duration.ofMillis(5))) {
            Deadline d = new Deadline();
            sweeper.register(d);
            sweeper.unregister(d);
            d.at = System.nanoTime();
            assertThat(d.expired.await(100, TimeUnit.MILLISECONDS)).isFalse();
            assertThat(sweeper.registeredCount()).isZero();
        }
    }

    @Test
    void periodIsATenthOfTheTimeoutWithinBounds() {
        assertThat(DeadlineSweeper.periodFor(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(1));
        assertThat(DeadlineSweeper.periodFor(Duration.ofMillis(200))).isEqualTo(Duration.ofMillis(20));
        assertThat(DeadlineSweeper.periodFor(Duration.ofMillis(10))).isEqualTo(Duration.ofMillis(5));
    }
}

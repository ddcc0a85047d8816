package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private final RetryPolicy policy = new RetryPolicy(
            List.of(Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofHours(1)), Duration.ofDays(5));

    @Test
    void followsTheScheduleAndRepeatsTheLastDelay() {
        assertThat(policy.delayAfter(1)).isEqualTo(Duration.ofMinutes(5).toMillis());
        assertThat(policy.delayAfter(2)).isEqualTo(Duration.ofMinutes(10).toMillis());
        assertThat(policy.delayAfter(3)).isEqualTo(Duration.ofHours(1).toMillis());
        assertThat(policy.delayAfter(40)).isEqualTo(Duration.ofHours(1).toMillis());
    }

    @Test
    void expiresAfterTheMaximumLifetime() {
        long received = 1_000_000L;
        assertThat(policy.expired(received, received + Duration.ofDays(5).toMillis() - 1)).isFalse();
        assertThat(policy.expired(received, received + Duration.ofDays(5).toMillis())).isTrue();
    }

    @Test
    void defaultScheduleDoublesFromFiveMinutesToAnHour() {
        List<Duration> d = dev.tern.config.DeliverySettings.defaults().retrySchedule();
        assertThat(d.getFirst()).isEqualTo(Duration.ofMinutes(5));
        assertThat(d.getLast()).isEqualTo(Duration.ofHours(1));
    }
}

package dev.tern.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Outbound delivery settings. Owned by the delivery layer.
 *
 * @param enabled        whether the relay delivers at all (off: accept-only, mail stays queued)
 * @param smarthost      all mail to this host when set
 * @param routes         per recipient domain: next hops tried in order (before MX lookup)
 * @param dns            the DNS resolver to ask (empty: the system's)
 * @param retrySchedule  delays between attempts; the last repeats (Postfix-like default: 5 min doubling to 1 h)
 * @param maxLifetime    how long a message may stay queued before it bounces
 */
public record DeliverySettings(boolean enabled, Optional<HostPort> smarthost, Map<String, List<HostPort>> routes,
                               Optional<HostPort> dns, List<Duration> retrySchedule, Duration maxLifetime) {
    public static DeliverySettings defaults() {
        return new DeliverySettings(true, Optional.empty(), Map.of(), Optional.empty(),
                List.of(Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(20), Duration.ofMinutes(40),
                        Duration.ofHours(1)),
                Duration.ofDays(5));
    }
}

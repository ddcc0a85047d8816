package dev.tern.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Outbound delivery settings. Owned by the delivery layer.
 *
 * @param enabled          whether the relay delivers at all (off: accept-only, mail stays queued)
 * @param smarthost        all mail to this host when set
 * @param routes           per recipient domain: next hops tried in order (before MX lookup)
 * @param dns              the DNS resolver to ask (empty: the system's)
 * @param retrySchedule    delays between attempts; the last repeats (Postfix-like default: 5 min doubling to 1 h)
 * @param maxLifetime      how long a message may stay queued before it bounces
 * @param heloName         the name sent in EHLO/HELO and used as Reporting-MTA in bounces
 * @param mxPort           the port of next hops found by MX or A lookup (25; tests use an ephemeral port)
 * @param connectTimeout   TCP connect timeout per next hop
 * @param commandTimeout   how long to wait for any reply (RFC 5321 4.5.3.2 suggests minutes; the final DATA reply
 *                         uses twice this)
 * @param idleTimeout      how long an unused connection stays in the connection cache
 * @param limits           shaping limits applied to every destination without an override
 * @param limitOverrides   per destination (recipient domain, or the smarthost's host) stricter or looser limits
 * @param backoffAfter     this many consecutive temporary failures (or one 421) from a destination back it off
 * @param backoff          how long a backed-off destination gets no new connection
 * @param maxRecipientsPerTransaction recipients of one domain sent in one transaction; more are split over several
 *                         (RFC 5321 4.5.3.1.8: servers must accept at least 100)
 * @param startTls         opportunistic STARTTLS to next hops that offer it (no certificate check, as Postfix's
 *                         {@code smtp_tls_security_level = may})
 */
public record DeliverySettings(boolean enabled, Optional<HostPort> smarthost, Map<String, List<HostPort>> routes,
                               Optional<HostPort> dns, List<Duration> retrySchedule, Duration maxLifetime,
                               String heloName, int mxPort, Duration connectTimeout, Duration commandTimeout,
                               Duration idleTimeout, Limits limits, Map<String, Limits> limitOverrides,
                               int backoffAfter, Duration backoff, int maxRecipientsPerTransaction,
                               boolean startTls) {

    /** All settings but {@code startTls}, which is on. */
    public DeliverySettings(boolean enabled, Optional<HostPort> smarthost, Map<String, List<HostPort>> routes,
                            Optional<HostPort> dns, List<Duration> retrySchedule, Duration maxLifetime,
                            String heloName, int mxPort, Duration connectTimeout, Duration commandTimeout,
                            Duration idleTimeout, Limits limits, Map<String, Limits> limitOverrides,
                            int backoffAfter, Duration backoff, int maxRecipientsPerTransaction) {
        this(enabled, smarthost, routes, dns, retrySchedule, maxLifetime, heloName, mxPort, connectTimeout,
                commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter, backoff,
                maxRecipientsPerTransaction, true);
    }

    /** Checks every field once, listing every problem in one exception. */
    public DeliverySettings {
        routes = Map.copyOf(routes);
        retrySchedule = List.copyOf(retrySchedule);
        limitOverrides = Map.copyOf(limitOverrides);
        List<String> errors = new java.util.ArrayList<>();
        if (retrySchedule.isEmpty() || retrySchedule.stream().anyMatch(d -> d.isNegative() || d.isZero())) {
            errors.add("retrySchedule: at least one delay, all positive");
        }
        for (var e : new Object[][] {{"maxLifetime", maxLifetime}, {"connectTimeout", connectTimeout},
                {"commandTimeout", commandTimeout}, {"idleTimeout", idleTimeout}, {"backoff", backoff}}) {
            Duration d = (Duration) e[1];
            if (d == null || d.isNegative() || d.isZero()) {
                errors.add(e[0] + ": must be positive");
            }
        }
        if (heloName == null || heloName.isBlank() || heloName.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            errors.add("heloName: a host name without spaces or control characters");
        }
        if (mxPort < 1 || mxPort > 65535) {
            errors.add("mxPort: 1..65535");
        }
        if (maxRecipientsPerTransaction < 1) {
            errors.add("maxRecipientsPerTransaction: at least 1");
        }
        if (backoffAfter < 1) {
            errors.add("backoffAfter: at least 1");
        }
        if (routes.values().stream().anyMatch(List::isEmpty)) {
            errors.add("routes: every domain needs at least one next hop");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid delivery settings: " + String.join("; ", errors));
        }
    }

    /**
     * Shaping limits for one destination.
     *
     * @param maxConnections           concurrent connections
     * @param maxMessagesPerConnection messages sent over one connection before it is closed
     * @param messagesPerSecond        transactions started per second (0: unlimited)
     * @param messagesPerMinute        transactions started per minute (0: unlimited)
     */
    public record Limits(int maxConnections, int maxMessagesPerConnection, int messagesPerSecond,
                         int messagesPerMinute) {
        public Limits {
            if (maxConnections < 1 || maxMessagesPerConnection < 1 || messagesPerSecond < 0 || messagesPerMinute < 0) {
                throw new IllegalArgumentException("limits: connections and messages/connection >= 1, rates >= 0");
            }
        }

        public static Limits defaults() {
            return new Limits(20, 100, 0, 0);
        }

        /**
         * Parses the config form: space or comma separated {@code connections=N per-connection=N per-second=N
         * per-minute=N}; what is left out keeps its default.
         */
        public static Limits parse(String text) {
            Limits d = defaults();
            int c = d.maxConnections();
            int pc = d.maxMessagesPerConnection();
            int ps = d.messagesPerSecond();
            int pm = d.messagesPerMinute();
            for (String part : text.trim().split("[\\s,]+")) {
                if (part.isEmpty()) {
                    continue;
                }
                int eq = part.indexOf('=');
                int v;
                try {
                    v = Integer.parseInt(part.substring(eq + 1));
                } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                    throw new IllegalArgumentException("expected NAME=NUMBER, got '" + part + "'");
                }
                switch (eq < 0 ? part : part.substring(0, eq)) {
                    case "connections" -> c = v;
                    case "per-connection" -> pc = v;
                    case "per-second" -> ps = v;
                    case "per-minute" -> pm = v;
                    default -> throw new IllegalArgumentException("unknown limit '" + part
                            + "' (connections, per-connection, per-second, per-minute)");
                }
            }
            return new Limits(c, pc, ps, pm);
        }

        @Override
        public String toString() {
            return "connections=" + maxConnections + " per-connection=" + maxMessagesPerConnection
                    + " per-second=" + messagesPerSecond + " per-minute=" + messagesPerMinute;
        }
    }

    public static DeliverySettings defaults() {
        return new DeliverySettings(true, Optional.empty(), Map.of(), Optional.empty(),
                List.of(Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(20), Duration.ofMinutes(40),
                        Duration.ofHours(1)),
                Duration.ofDays(5), "localhost", 25, Duration.ofSeconds(30), Duration.ofMinutes(5),
                Duration.ofSeconds(10), Limits.defaults(), Map.of(), 5, Duration.ofMinutes(1), 100);
    }

    /** The limits for a destination: its override, else {@link #limits()}. */
    public Limits limitsFor(String destination) {
        return limitOverrides.getOrDefault(destination, limits);
    }

    public DeliverySettings withSmarthost(HostPort h) {
        return new DeliverySettings(enabled, Optional.ofNullable(h), routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withRoutes(Map<String, List<HostPort>> r) {
        return new DeliverySettings(enabled, smarthost, Map.copyOf(r), dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withDns(HostPort d, int port) {
        return new DeliverySettings(enabled, smarthost, routes, Optional.ofNullable(d), retrySchedule, maxLifetime,
                heloName, port, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withRetries(List<Duration> schedule, Duration lifetime) {
        return new DeliverySettings(enabled, smarthost, routes, dns, List.copyOf(schedule), lifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withTimeouts(Duration connect, Duration command, Duration idle) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connect, command, idle, limits, limitOverrides, backoffAfter, backoff,
                maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withLimits(Limits l, Map<String, Limits> overrides) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, l, Map.copyOf(overrides), backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withBackoff(int after, Duration d) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, after, d,
                maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withHeloName(String name) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                name, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withMaxRecipientsPerTransaction(int n) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, n, startTls);
    }

    public DeliverySettings withEnabled(boolean on) {
        return new DeliverySettings(on, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, startTls);
    }

    public DeliverySettings withStartTls(boolean on) {
        return new DeliverySettings(enabled, smarthost, routes, dns, retrySchedule, maxLifetime,
                heloName, mxPort, connectTimeout, commandTimeout, idleTimeout, limits, limitOverrides, backoffAfter,
                backoff, maxRecipientsPerTransaction, on);
    }
}

package dev.tern.delivery;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Caps concurrent connections per next-hop host, across every destination that shares it (many domains are hosted
 * on the same MX hosts). The cap is the host's override in {@link DeliverySettings#limitOverrides()} (keyed by the
 * address as routed, e.g. "192.0.2.1"), else the default connection limit. A permit is held from connect until the
 * connection is closed, idle time in the connection cache included.
 *
 * <p>Threading: any thread.
 */
final class HopLimiter {
    private final DeliverySettings settings;
    private final Map<HostPort, Semaphore> permits = new ConcurrentHashMap<>();

    HopLimiter(DeliverySettings settings) {
        this.settings = settings;
    }

    boolean tryAcquire(HostPort hop) {
        return semaphore(hop).tryAcquire();
    }

    void release(HostPort hop) {
        semaphore(hop).release();
    }

    /** Connections currently open (or being opened) to {@code hop}. */
    int inUse(HostPort hop) {
        Semaphore s = permits.get(hop);
        return s == null ? 0 : limit(hop) - s.availablePermits();
    }

    private int limit(HostPort hop) {
        return settings.limitsFor(hop.host()).maxConnections();
    }

    private Semaphore semaphore(HostPort hop) {
        return permits.computeIfAbsent(hop, h -> new Semaphore(limit(h)));
    }
}

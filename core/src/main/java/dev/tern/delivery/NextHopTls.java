package dev.tern.delivery;

import dev.tern.config.HostPort;
import dev.tern.tls.OpportunisticTlsContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;

/**
 * Whether to say STARTTLS to a next hop that offers it: always, when the setting is on, except to a hop whose TLS
 * handshake failed lately. Such a hop is spoken to in plaintext for an hour, as opportunistic TLS allows (RFC 7435
 * 3), rather than deferring its mail again at every attempt.
 *
 * <p>Threading: safe for every delivery worker at once.
 */
final class NextHopTls {
    static final long PLAINTEXT_AFTER_FAILURE_NANOS = TimeUnit.HOURS.toNanos(1);

    private final OpportunisticTlsContext context;
    /** Hop -> System.nanoTime() until which it gets plaintext. */
    private final ConcurrentHashMap<HostPort, Long> plaintextUntil = new ConcurrentHashMap<>();

    /** {@code enabled} false: never STARTTLS. */
    NextHopTls(boolean enabled) {
        this.context = enabled ? new OpportunisticTlsContext() : null;
    }

    static NextHopTls off() {
        return new NextHopTls(false);
    }

    /** Whether to start TLS with {@code hop} now (it offered STARTTLS). */
    boolean wanted(HostPort hop) {
        if (context == null) {
            return false;
        }
        Long until = plaintextUntil.get(hop);
        if (until == null) {
            return true;
        }
        if (System.nanoTime() - until >= 0) {
            plaintextUntil.remove(hop, until);
            return true;
        }
        return false;
    }

    SSLEngine newEngine(HostPort hop) {
        return context.newEngine(hop.host(), hop.port());
    }

    /** The handshake with {@code hop} failed: plaintext for a while. */
    void failed(HostPort hop) {
        plaintextUntil.put(hop, System.nanoTime() + PLAINTEXT_AFTER_FAILURE_NANOS);
    }
}

package dev.tern.session;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Connection admission: a total limit (a semaphore whose permit the listener takes before {@code accept()}) and a
 * per-client-address limit checked once the peer is known. Clients in mynetworks are exempt from the per-client
 * limit unless {@code limitMynetworks} is set; the total limit applies to everyone.
 *
 * <p>Threading: every method is thread-safe. Each successful {@link #tryAcquireTotal()} must be matched by exactly
 * one {@link #releaseTotal()}, and each {@code true} from {@link #tryAcquireClient} by one {@link #releaseClient}.
 */
public final class ConnectionLimiter {
    private final Semaphore total;
    private final int perClient;
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

    public ConnectionLimiter(int maxConnections, int maxConnectionsPerClient) {
        if (maxConnections <= 0 || maxConnectionsPerClient <= 0) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
        this.total = new Semaphore(maxConnections);
        this.perClient = maxConnectionsPerClient;
    }

    /** Takes a permit from the total limit without waiting. */
    public boolean tryAcquireTotal() {
        return total.tryAcquire();
    }

    public void releaseTotal() {
        total.release();
    }

    /** Counts one more session for {@code address}; false (and nothing counted) when the address is at its limit. */
    public boolean tryAcquireClient(InetAddress address) {
        boolean[] admitted = {false};
        perAddress.compute(address, (a, n) -> {
            int current = n == null ? 0 : n;
            if (current >= perClient) {
                return n;
            }
            admitted[0] = true;
            return current + 1;
        });
        return admitted[0];
    }

    public void releaseClient(InetAddress address) {
        perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }

    /** Sessions currently counted for {@code address} (tests and diagnostics). */
    public int clientCount(InetAddress address) {
        return perAddress.getOrDefault(address, 0);
    }

    /** Permits left under the total limit. */
    public int availableTotal() {
        return total.availablePermits();
    }
}

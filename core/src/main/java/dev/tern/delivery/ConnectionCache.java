package dev.tern.delivery;

import dev.tern.config.HostPort;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * Idle outbound connections kept open per next hop for reuse (like Postfix's scache): a connection goes back here
 * after a transaction and the next message to the same hop takes it instead of connecting again. Connections idle
 * longer than the idle timeout are closed with QUIT by a background sweep.
 *
 * <p>Threading: any thread; connections inside are owned by the cache until {@link #take} hands one out.
 */
final class ConnectionCache implements AutoCloseable {
    private final Map<HostPort, ConcurrentLinkedDeque<OutboundConnection>> idle = new ConcurrentHashMap<>();
    private final long idleTimeoutNanos;
    private final Thread sweeper;
    private volatile boolean running = true;

    ConnectionCache(long idleTimeoutMillis) {
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
        long period = Math.max(20, idleTimeoutMillis / 4);
        sweeper = Thread.ofVirtual().name("tern-delivery-idle").start(() -> {
            while (running) {
                try {
                    TimeUnit.MILLISECONDS.sleep(period);
                } catch (InterruptedException e) {
                    return;
                }
                sweep(System.nanoTime());
            }
        });
    }

    /** A usable idle connection to {@code hop} (most recently used first), or null. */
    OutboundConnection take(HostPort hop) {
        ConcurrentLinkedDeque<OutboundConnection> q = idle.get(hop);
        if (q == null) {
            return null;
        }
        long now = System.nanoTime();
        OutboundConnection c;
        while ((c = q.pollFirst()) != null) {
            if (c.usable() && now - c.idleSince() < idleTimeoutNanos) {
                return c;
            }
            c.abort();
        }
        return null;
    }

    /** Keeps {@code c} for reuse. */
    void give(OutboundConnection c) {
        if (!running || !c.usable()) {
            c.abort();
            return;
        }
        c.idleSince(System.nanoTime());
        idle.computeIfAbsent(c.hop(), h -> new ConcurrentLinkedDeque<>()).addFirst(c);
    }

    /** Idle connections currently cached for {@code hop}. */
    int idleCount(HostPort hop) {
        ConcurrentLinkedDeque<OutboundConnection> q = idle.get(hop);
        return q == null ? 0 : q.size();
    }

    private void sweep(long now) {
        for (ConcurrentLinkedDeque<OutboundConnection> q : idle.values()) {
            for (Iterator<OutboundConnection> it = q.iterator(); it.hasNext(); ) {
                OutboundConnection c = it.next();
                if (now - c.idleSince() >= idleTimeoutNanos || !c.usable()) {
                    if (q.removeFirstOccurrence(c)) {
                        c.quit();
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        sweeper.interrupt();
        for (ConcurrentLinkedDeque<OutboundConnection> q : idle.values()) {
            OutboundConnection c;
            while ((c = q.pollFirst()) != null) {
                c.quit();
            }
        }
    }
}

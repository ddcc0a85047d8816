package dev.tern.session;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters behind {@link SessionStats}. Threading: updated by every session thread and the listener;
 * {@link #snapshot()} from any thread (each counter is read atomically, the snapshot as a whole is not).
 */
public final class SessionCounters {
    private static final RejectReason[] REASONS = RejectReason.values();

    private final AtomicLong open = new AtomicLong();
    private final LongAdder total = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder tls = new LongAdder();
    private final AtomicLongArray rejections = new AtomicLongArray(REASONS.length);

    void sessionOpened() {
        open.incrementAndGet();
        total.increment();
    }

    void sessionClosed() {
        open.decrementAndGet();
    }

    void tlsStarted() {
        tls.increment();
    }

    void messageAccepted() {
        accepted.increment();
    }

    void rejected(RejectReason reason) {
        rejections.incrementAndGet(reason.ordinal());
    }

    public SessionStats snapshot() {
        Map<RejectReason, Long> byReason = new EnumMap<>(RejectReason.class);
        for (RejectReason r : REASONS) {
            byReason.put(r, rejections.get(r.ordinal()));
        }
        return new SessionStats(open.get(), total.sum(), accepted.sum(), tls.sum(), Map.copyOf(byReason));
    }
}

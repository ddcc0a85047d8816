package dev.tern.loadgen;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Live counters and latency recorders of one run, written by every worker. Latencies go to one HdrHistogram
 * {@link Recorder} per {@link Phase}, in microseconds, so the reporter can take interval histograms without
 * stopping the writers.
 *
 * <p>Thread-safe: all fields are concurrent.
 */
final class LoadStats {
    final Recorder[] recorders = new Recorder[Phase.values().length];
    final LongAdder started = new LongAdder();
    final LongAdder acknowledged = new LongAdder();
    final LongAdder tempfailed = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder failedByError = new LongAdder();
    final LongAdder measuredAcknowledged = new LongAdder();
    final LongAdder measuredBytes = new LongAdder();
    final LongAdder connections = new LongAdder();
    final AtomicLongArray replies = new AtomicLongArray(600);
    final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    /** Connections that started TLS, by protocol and cipher suite. */
    final ConcurrentHashMap<String, LongAdder> tlsSessions = new ConcurrentHashMap<>();
    /** nanoTime at which the first measured message started, or Long.MAX_VALUE. */
    final AtomicLong measureStart = new AtomicLong(Long.MAX_VALUE);
    /** nanoTime at which the last measured message ended, or Long.MIN_VALUE. */
    final AtomicLong measureEnd = new AtomicLong(Long.MIN_VALUE);

    LoadStats() {
        for (int i = 0; i < recorders.length; i++) {
            recorders[i] = new Recorder(3);
        }
    }

    void record(Phase phase, long nanos) {
        recorders[phase.ordinal()].recordValue(Math.max(0, nanos / 1_000));
    }

    void reply(int code) {
        if (code >= 0 && code < 600) {
            replies.incrementAndGet(code);
        }
    }

    void error(String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    void tlsSession(String protocolAndCipher) {
        tlsSessions.computeIfAbsent(protocolAndCipher, k -> new LongAdder()).increment();
    }

    void measuredWindow(long start, long end) {
        measureStart.accumulateAndGet(start, Math::min);
        measureEnd.accumulateAndGet(end, Math::max);
    }

    Map<Integer, Long> repliesByCode() {
        Map<Integer, Long> out = new TreeMap<>();
        for (int code = 0; code < replies.length(); code++) {
            long n = replies.get(code);
            if (n > 0) {
                out.put(code, n);
            }
        }
        return out;
    }

    Map<String, Long> errorsByKind() {
        return sums(errors);
    }

    Map<String, Long> tlsSessionsByCipher() {
        return sums(tlsSessions);
    }

    private static Map<String, Long> sums(ConcurrentHashMap<String, LongAdder> counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    long errorCount() {
        long n = 0;
        for (LongAdder a : errors.values()) {
            n += a.sum();
        }
        return n;
    }
}

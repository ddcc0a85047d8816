package dev.tern.loadgen;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The result of a run. Immutable by convention: the histograms belong to the report and must not be modified.
 * Latencies are in microseconds; only messages started after the warm-up are in the histograms and rates.
 *
 * @param spec                 what was run
 * @param startedAt            wall-clock start
 * @param elapsed              wall-clock length of the whole run, warm-up and drain included
 * @param measured             length of the measured window (first measured start to last measured end)
 * @param started              messages started (warm-up included)
 * @param acknowledged         messages answered 250 at the end (warm-up included): what a crash test counts
 * @param tempfailed           messages refused with a 4xx (at MAIL, every RCPT, DATA or the end)
 * @param rejected             messages refused with a 5xx
 * @param failedByError        messages lost to an I/O or protocol error (see {@link #errors()})
 * @param measuredAcknowledged acknowledged messages that were measured
 * @param messagesPerSecond    measured acknowledged messages per second of the measured window
 * @param dataMegabytesPerSec  measured acknowledged content, in MB (10^6 bytes) per second
 * @param connections          connections opened
 * @param replies              every reply received, by code
 * @param errors               errors by kind (connect-refused, timeout, closed-by-server, protocol, ...)
 * @param tlsSessions          connections that started TLS, by protocol and cipher suite
 * @param latency              latency histograms by phase (µs)
 * @param acknowledgedPerSecond acknowledged messages in each second of the run
 * @param messageP99PerSecond  p99 of the message latency in each second, in ms
 * @param idle                 what happened to the idle sessions ({@link LoadSpec#idleConnections()})
 */
public record LoadReport(LoadSpec spec, Instant startedAt, Duration elapsed, Duration measured, long started,
                         long acknowledged, long tempfailed, long rejected, long failedByError,
                         long measuredAcknowledged, double messagesPerSecond, double dataMegabytesPerSec,
                         long connections, Map<Integer, Long> replies, Map<String, Long> errors,
                         Map<String, Long> tlsSessions,
                         Map<Phase, Histogram> latency, List<Long> acknowledgedPerSecond,
                         List<Double> messageP99PerSecond, Idle idle) {

    /**
     * The idle sessions held during the run.
     *
     * @param requested   sessions asked for
     * @param established sessions that got their 220 and EHLO reply
     * @param failed      sessions that could not be opened
     * @param dropped     established sessions the server closed before the end of the run
     */
    public record Idle(int requested, long established, long failed, long dropped) {
    }

    /** Percentiles of one phase, in milliseconds. */
    public record Summary(long count, double p50, double p90, double p99, double p999, double max) {
    }

    /** The percentile summary of {@code phase} (all zero when it never happened). */
    public Summary summary(Phase phase) {
        Histogram h = latency.get(phase);
        if (h == null || h.getTotalCount() == 0) {
            return new Summary(0, 0, 0, 0, 0, 0);
        }
        return new Summary(h.getTotalCount(), ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()));
    }

    /** Errors of every kind. */
    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Connections that started TLS, whatever the cipher. */
    public long tlsSessionCount() {
        return tlsSessions.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Replies with this code. */
    public long replies(int code) {
        return replies.getOrDefault(code, 0L);
    }

    private static double ms(long micros) {
        return micros / 1000.0;
    }
}

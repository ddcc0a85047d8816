package dev.tern.sink;

import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Renders {@link SinkStats} for people (a progress line, a summary) and for scripts (JSON). Stateless. */
public final class SinkReport {
    private SinkReport() {
    }

    /** One progress line: totals plus the message rate since {@code previous} (taken {@code seconds} earlier). */
    public static String line(SinkStats now, SinkStats previous, double seconds) {
        double rate = seconds > 0 ? (now.messages() - previous.messages()) / seconds : 0;
        Histogram h = now.latencyMicros();
        return String.format(Locale.ROOT, "connections %d (open %d)  messages %d (%.0f/s)  failed %d  rcpts %d  "
                        + "integrity failures %d  end-to-end p50 %.2f ms p99 %.2f ms", now.connections(),
                now.activeConnections(), now.messages(), rate, now.failedMessages(), now.recipients(),
                now.integrityFailures(), ms(h, 50), ms(h, 99));
    }

    /** A multi-line summary. */
    public static String summary(SinkStats s) {
        Histogram h = s.latencyMicros();
        return String.format(Locale.ROOT, "connections: %d%nmessages accepted: %d, refused or cut: %d, "
                        + "injected disconnects: %d%nrecipients accepted: %d%nbytes: %d%nstamped: %d, integrity "
                        + "failures: %d%nend-to-end latency (ms): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n"
                        + "replies: %s%n", s.connections(), s.messages(), s.failedMessages(), s.injectedDisconnects(),
                s.recipients(), s.bytes(), s.stamped(), s.integrityFailures(), ms(h, 50), ms(h, 90), ms(h, 99),
                ms(h, 99.9), h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0, s.replies());
    }

    /** The stats as one JSON object (latencies in milliseconds). */
    public static String json(SinkStats s) {
        Histogram h = s.latencyMicros();
        StringBuilder replies = new StringBuilder("{");
        for (Map.Entry<Integer, Long> e : new java.util.TreeMap<>(s.replies()).entrySet()) {
            replies.append(replies.length() > 1 ? ", " : "").append('"').append(e.getKey()).append("\": ")
                    .append(e.getValue());
        }
        replies.append('}');
        return String.format(Locale.ROOT, "{\"connections\": %d, \"active_connections\": %d, \"messages\": %d, "
                        + "\"failed_messages\": %d, \"recipients\": %d, \"bytes\": %d, \"stamped\": %d, "
                        + "\"integrity_failures\": %d, \"injected_disconnects\": %d, \"replies\": %s, "
                        + "\"end_to_end_ms\": {\"count\": %d, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
                        + "\"p999\": %.3f, \"max\": %.3f}}%n", s.connections(), s.activeConnections(), s.messages(),
                s.failedMessages(), s.recipients(), s.bytes(), s.stamped(), s.integrityFailures(),
                s.injectedDisconnects(), replies, h.getTotalCount(), ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9),
                h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0);
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }
}

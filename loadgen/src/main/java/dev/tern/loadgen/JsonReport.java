package dev.tern.loadgen;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link LoadReport} as JSON for scripts (snake_case keys, latencies in ms). Stateless. */
public final class JsonReport {
    private JsonReport() {
    }

    public static String render(LoadReport r) {
        LoadSpec s = r.spec();
        StringBuilder b = new StringBuilder(4096);
        b.append("{\n");
        field(b, 1, "target", s.target().toString()).append(",\n");
        field(b, 1, "started_at", r.startedAt().toString()).append(",\n");
        number(b, 1, "elapsed_s", r.elapsed().toNanos() / 1e9).append(",\n");
        number(b, 1, "measured_s", r.measured().toNanos() / 1e9).append(",\n");
        indent(b, 1).append("\"spec\": {\n");
        number(b, 2, "connections", s.connections()).append(",\n");
        number(b, 2, "messages", s.messages()).append(",\n");
        number(b, 2, "duration_s", s.duration().toNanos() / 1e9).append(",\n");
        number(b, 2, "rate", s.rate()).append(",\n");
        field(b, 2, "mode", s.openLoop() ? "open-loop" : "closed-loop").append(",\n");
        number(b, 2, "messages_per_connection", s.messagesPerConnection()).append(",\n");
        number(b, 2, "recipients", s.recipients()).append(",\n");
        field(b, 2, "size", s.size().toString()).append(",\n");
        bool(b, 2, "pipelining", s.pipelining()).append(",\n");
        bool(b, 2, "bdat", s.bdat()).append(",\n");
        field(b, 2, "starttls", s.startTls().toString()).append(",\n");
        bool(b, 2, "tls_verified", s.tlsTrust() != null).append(",\n");
        number(b, 2, "warmup_messages", s.warmupMessages()).append(",\n");
        number(b, 2, "warmup_s", s.warmupTime().toNanos() / 1e9).append("\n");
        indent(b, 1).append("},\n");
        indent(b, 1).append("\"messages\": {\n");
        number(b, 2, "started", r.started()).append(",\n");
        number(b, 2, "acknowledged", r.acknowledged()).append(",\n");
        number(b, 2, "tempfailed", r.tempfailed()).append(",\n");
        number(b, 2, "rejected", r.rejected()).append(",\n");
        number(b, 2, "failed_by_error", r.failedByError()).append(",\n");
        number(b, 2, "measured_acknowledged", r.measuredAcknowledged()).append("\n");
        indent(b, 1).append("},\n");
        number(b, 1, "messages_per_second", r.messagesPerSecond()).append(",\n");
        number(b, 1, "data_mb_per_second", r.dataMegabytesPerSec()).append(",\n");
        number(b, 1, "connections_opened", r.connections()).append(",\n");
        indent(b, 1).append("\"idle\": {\"requested\": ").append(r.idle().requested())
                .append(", \"established\": ").append(r.idle().established())
                .append(", \"failed\": ").append(r.idle().failed())
                .append(", \"dropped\": ").append(r.idle().dropped()).append("},\n");
        map(b, "replies", r.replies()).append(",\n");
        map(b, "errors", r.errors()).append(",\n");
        map(b, "tls_sessions", r.tlsSessions()).append(",\n");
        indent(b, 1).append("\"latency_ms\": {\n");
        Phase[] phases = Phase.values();
        for (int i = 0; i < phases.length; i++) {
            LoadReport.Summary m = r.summary(phases[i]);
            indent(b, 2).append('"').append(phases[i].key()).append("\": {");
            b.append("\"count\": ").append(m.count());
            b.append(", \"p50\": ").append(num(m.p50())).append(", \"p90\": ").append(num(m.p90()));
            b.append(", \"p99\": ").append(num(m.p99())).append(", \"p999\": ").append(num(m.p999()));
            b.append(", \"max\": ").append(num(m.max())).append('}').append(i < phases.length - 1 ? ",\n" : "\n");
        }
        indent(b, 1).append("},\n");
        list(b, "acknowledged_per_second", r.acknowledgedPerSecond()).append(",\n");
        list(b, "message_p99_ms_per_second", r.messageP99PerSecond()).append("\n");
        b.append("}\n");
        return b.toString();
    }

    private static StringBuilder indent(StringBuilder b, int level) {
        return b.append("  ".repeat(level));
    }

    private static StringBuilder field(StringBuilder b, int level, String key, String value) {
        return indent(b, level).append('"').append(key).append("\": ").append(quote(value));
    }

    private static StringBuilder number(StringBuilder b, int level, String key, double value) {
        return indent(b, level).append('"').append(key).append("\": ").append(num(value));
    }

    private static StringBuilder bool(StringBuilder b, int level, String key, boolean value) {
        return indent(b, level).append('"').append(key).append("\": ").append(value);
    }

    private static StringBuilder map(StringBuilder b, String key, Map<?, Long> values) {
        indent(b, 1).append('"').append(key).append("\": {");
        boolean first = true;
        for (Map.Entry<?, Long> e : values.entrySet()) {
            b.append(first ? "" : ", ").append(quote(String.valueOf(e.getKey()))).append(": ").append(e.getValue());
            first = false;
        }
        return b.append('}');
    }

    private static StringBuilder list(StringBuilder b, String key, List<? extends Number> values) {
        indent(b, 1).append('"').append(key).append("\": [");
        for (int i = 0; i < values.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(num(values.get(i).doubleValue()));
        }
        return b.append(']');
    }

    /** Integral values without a fraction, others with up to three decimals; never NaN or Infinity (not JSON). */
    static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "0";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}

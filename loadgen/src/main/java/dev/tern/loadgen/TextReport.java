package dev.tern.loadgen;

import java.util.Locale;

/** Renders a {@link LoadReport} as the human-readable summary the CLI prints. Stateless. */
public final class TextReport {
    private TextReport() {
    }

    public static String render(LoadReport r) {
        LoadSpec s = r.spec();
        StringBuilder b = new StringBuilder(2048);
        b.append(String.format(Locale.ROOT, "Tern loadgen -> %s: %d connections, %s, %d rcpt/msg, size %s%s%s%s%n",
                s.target(), s.connections(), s.openLoop() ? "open loop at " + s.rate() + " msg/s" : "closed loop",
                s.recipients(), s.size(), s.pipelining() ? ", PIPELINING" : "", s.bdat() ? ", BDAT" : "",
                s.startTls() == StartTls.NEVER ? ""
                        : ", STARTTLS " + s.startTls() + (s.tlsTrust() != null ? " (verified)" : " (unverified)")));
        b.append(String.format(Locale.ROOT, "elapsed %.1f s, measured window %.1f s%n",
                r.elapsed().toNanos() / 1e9, r.measured().toNanos() / 1e9));
        b.append(String.format(Locale.ROOT,
                "messages: started %d, acknowledged %d, tempfailed %d, rejected %d, lost to errors %d%n",
                r.started(), r.acknowledged(), r.tempfailed(), r.rejected(), r.failedByError()));
        b.append(String.format(Locale.ROOT, "throughput: %.1f msg/s, %.2f MB/s of DATA (measured, acknowledged)%n",
                r.messagesPerSecond(), r.dataMegabytesPerSec()));
        if (r.idle().requested() > 0) {
            b.append(String.format(Locale.ROOT, "idle sessions: %d requested, %d established, %d failed to open, "
                    + "%d dropped by the server%n", r.idle().requested(), r.idle().established(), r.idle().failed(),
                    r.idle().dropped()));
        }
        b.append("replies: ").append(r.replies()).append('\n');
        if (!r.errors().isEmpty()) {
            b.append("errors: ").append(r.errors()).append('\n');
        }
        if (!r.tlsSessions().isEmpty()) {
            b.append("TLS sessions: ").append(r.tlsSessions()).append('\n');
        }
        b.append(String.format(Locale.ROOT, "%-34s %9s %9s %9s %9s %9s %9s%n",
                "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"));
        for (Phase p : Phase.values()) {
            LoadReport.Summary m = r.summary(p);
            if (m.count() > 0) {
                b.append(String.format(Locale.ROOT, "%-34s %9d %9.3f %9.3f %9.3f %9.3f %9.3f%n",
                        p.label(), m.count(), m.p50(), m.p90(), m.p99(), m.p999(), m.max()));
            }
        }
        return b.toString();
    }
}

package dev.tern.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Renders a {@link LoadReport} as one self-contained HTML page: the summary, a percentile table, a latency
 * percentile plot (HdrHistogram style: the x axis stretches the tail, 90% / 99% / 99.9% ... equally spaced) and
 * the acknowledged messages per second, both as inline SVG. No scripts, no external resources. Stateless.
 */
public final class HtmlReport {
    private static final int WIDTH = 960;
    private static final int HEIGHT = 360;
    private static final int LEFT = 70;
    private static final int RIGHT = 240;
    private static final int TOP = 20;
    private static final int BOTTOM = 40;
    private static final double MAX_NINES = 5; // the x axis ends at 99.999%
    private static final String[] COLORS = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

    private HtmlReport() {
    }

    public static String render(LoadReport r) {
        StringBuilder b = new StringBuilder(32 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>Tern loadgen report</title>\n")
                .append("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}")
                .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
                .append("th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:1em}")
                .append("svg{background:#fff;border:1px solid #ddd}</style></head><body>\n");
        b.append("<h1>Tern loadgen report</h1>\n<pre>").append(escape(TextReport.render(r))).append("</pre>\n");
        b.append("<h2>Latency percentiles (ms)</h2>\n<table><tr><th>phase</th><th>count</th><th>p50</th><th>p90</th>")
                .append("<th>p99</th><th>p99.9</th><th>max</th></tr>\n");
        for (Phase p : Phase.values()) {
            LoadReport.Summary m = r.summary(p);
            if (m.count() > 0) {
                b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>"
                                + "<td>%.3f</td><td>%.3f</td></tr>%n", escape(p.label()), m.count(), m.p50(), m.p90(),
                        m.p99(), m.p999(), m.max()));
            }
        }
        b.append("</table>\n<h2>Latency by percentile</h2>\n");
        percentilePlot(b, r);
        b.append("<h2>Acknowledged messages per second</h2>\n");
        throughputPlot(b, r);
        b.append("</body></html>\n");
        return b.toString();
    }

    private static void percentilePlot(StringBuilder b, LoadReport r) {
        List<Phase> shown = new ArrayList<>();
        double maxMs = 0;
        for (Phase p : Phase.values()) {
            Histogram h = r.latency().get(p);
            if (h != null && h.getTotalCount() > 0) {
                shown.add(p);
                maxMs = Math.max(maxMs, h.getValueAtPercentile(99.999) / 1000.0);
            }
        }
        maxMs = niceCeiling(maxMs);
        svgOpen(b);
        axes(b, "percentile", "ms", maxMs);
        for (int k = 0; k <= MAX_NINES; k++) {
            double x = LEFT + plotWidth() * k / MAX_NINES;
            String label = k == 0 ? "0%" : String.format(Locale.ROOT, "%s%%", trim(100 - 100 * Math.pow(10, -k)));
            b.append(String.format(Locale.ROOT, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#eee'/>"
                    + "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%s</text>%n",
                    x, TOP, x, TOP + plotHeight(), x, TOP + plotHeight() + 16, label));
        }
        for (int i = 0; i < shown.size(); i++) {
            Phase p = shown.get(i);
            Histogram h = r.latency().get(p);
            String color = COLORS[i % COLORS.length];
            b.append("<polyline fill='none' stroke-width='1.5' stroke='").append(color).append("' points='");
            for (int step = 0; step <= 100; step++) {
                double nines = MAX_NINES * step / 100.0;
                double percentile = 100 * (1 - Math.pow(10, -nines));
                double ms = h.getValueAtPercentile(percentile) / 1000.0;
                b.append(String.format(Locale.ROOT, "%.1f,%.1f ", LEFT + plotWidth() * nines / MAX_NINES,
                        y(ms, maxMs)));
            }
            b.append("'/>\n");
            legend(b, i, color, p.label());
        }
        b.append("</svg>\n");
    }

    private static void throughputPlot(StringBuilder b, LoadReport r) {
        List<Long> perSecond = r.acknowledgedPerSecond();
        double max = 1;
        for (long v : perSecond) {
            max = Math.max(max, v);
        }
        max = niceCeiling(max);
        svgOpen(b);
        axes(b, "second", "msg/s", max);
        int n = Math.max(1, perSecond.size());
        for (int s = 0; s < perSecond.size(); s += Math.max(1, n / 10)) {
            double x = LEFT + plotWidth() * (s + 0.5) / n;
            b.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%d</text>%n",
                    x, TOP + plotHeight() + 16, s + 1));
        }
        b.append("<polyline fill='none' stroke-width='2' stroke='").append(COLORS[0]).append("' points='");
        for (int s = 0; s < perSecond.size(); s++) {
            b.append(String.format(Locale.ROOT, "%.1f,%.1f ", LEFT + plotWidth() * (s + 0.5) / n,
                    y(perSecond.get(s), max)));
        }
        b.append("'/>\n</svg>\n");
    }

    private static void svgOpen(StringBuilder b) {
        b.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
                + "viewBox='0 0 %d %d'>%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
    }

    private static void axes(StringBuilder b, String xLabel, String yLabel, double yMax) {
        b.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#888'/>%n",
                LEFT, TOP, plotWidth(), plotHeight()));
        for (int i = 0; i <= 4; i++) {
            double v = yMax * i / 4;
            double y = y(v, yMax);
            b.append(String.format(Locale.ROOT, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#eee'/>"
                    + "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%s</text>%n",
                    LEFT, y, LEFT + plotWidth(), y, LEFT - 6, y + 4, trim(v)));
        }
        b.append(String.format(Locale.ROOT, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>%s</text>%n",
                LEFT + plotWidth() / 2, HEIGHT - 6, escape(xLabel)));
        b.append(String.format(Locale.ROOT, "<text x='14' y='%d' font-size='12' transform='rotate(-90 14 %d)' "
                + "text-anchor='middle'>%s</text>%n", TOP + plotHeight() / 2, TOP + plotHeight() / 2, escape(yLabel)));
    }

    private static void legend(StringBuilder b, int i, String color, String label) {
        int x = LEFT + plotWidth() + 10;
        int y = TOP + 14 + i * 18;
        b.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='12' height='3' fill='%s'/>"
                + "<text x='%d' y='%d' font-size='11'>%s</text>%n", x, y - 4, color, x + 16, y, escape(label)));
    }

    private static double y(double value, double max) {
        return TOP + plotHeight() - plotHeight() * Math.min(1, value / max);
    }

    private static int plotWidth() {
        return WIDTH - LEFT - RIGHT;
    }

    private static int plotHeight() {
        return HEIGHT - TOP - BOTTOM;
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}. */
    static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * power >= v) {
                return m * power;
            }
        }
        return 10 * power;
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.3f", v);
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
                .replace("\"", "&quot;");
    }
}

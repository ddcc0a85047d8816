package dev.tern.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * Once a second, takes the interval histograms from the run's recorders, adds them to the run totals, appends them
 * to the {@code .hlog} (one tagged interval per phase, HdrHistogram log format) and prints a progress line.
 *
 * <p>Used by the thread that runs the load (not thread-safe); reads {@link LoadStats}, which is concurrent.
 */
final class IntervalReporter implements AutoCloseable {
    private final LoadStats stats;
    private final Map<Phase, Histogram> totals = new EnumMap<>(Phase.class);
    private final Histogram[] recycled = new Histogram[Phase.values().length];
    private final List<Long> acknowledgedPerSecond = new ArrayList<>();
    private final List<Double> messageP99PerSecond = new ArrayList<>();
    private final PrintStream progress;
    private final HistogramLogWriter hlog;
    private final long startNanos;
    private long lastAcknowledged;

    IntervalReporter(LoadStats stats, Path hlogFile, PrintStream progress, long startNanos) throws IOException {
        this.stats = stats;
        this.progress = progress;
        this.startNanos = startNanos;
        for (Phase p : Phase.values()) {
            totals.put(p, new Histogram(3));
        }
        if (hlogFile != null) {
            Path parent = hlogFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            hlog = new HistogramLogWriter(new PrintStream(Files.newOutputStream(hlogFile), false,
                    java.nio.charset.StandardCharsets.UTF_8));
            long nowMillis = System.currentTimeMillis();
            hlog.outputComment("Tern loadgen latencies in microseconds, one tag per phase");
            hlog.outputLogFormatVersion();
            hlog.outputStartTime(nowMillis);
            hlog.setBaseTime(nowMillis);
            hlog.outputLegend();
        } else {
            hlog = null;
        }
    }

    /**
     * Takes one interval: totals, hlog, progress line. Only whole seconds go into the per-second series, so the
     * last, partial interval of a run does not show up as a drop in throughput.
     */
    void tick(boolean wholeSecond) {
        Histogram message = null;
        for (Phase p : Phase.values()) {
            Histogram interval = stats.recorders[p.ordinal()].getIntervalHistogram(recycled[p.ordinal()]);
            recycled[p.ordinal()] = interval;
            totals.get(p).add(interval);
            if (hlog != null && interval.getTotalCount() > 0) {
                interval.setTag(p.key());
                hlog.outputIntervalHistogram(interval);
            }
            if (p == Phase.MESSAGE) {
                message = interval;
            }
        }
        long acknowledged = stats.acknowledged.sum();
        long delta = acknowledged - lastAcknowledged;
        lastAcknowledged = acknowledged;
        double p99 = message.getTotalCount() == 0 ? 0 : message.getValueAtPercentile(99) / 1000.0;
        if (wholeSecond) {
            acknowledgedPerSecond.add(delta);
            messageP99PerSecond.add(p99);
        }
        if (progress != null && wholeSecond) {
            long seconds = (System.nanoTime() - startNanos) / 1_000_000_000L;
            progress.printf(Locale.ROOT, "[%4ds] started %d  acked %d  tempfail %d  reject %d  errors %d  |  %d msg/s"
                            + "  message p99 %.2f ms%n", seconds, stats.started.sum(), acknowledged,
                    stats.tempfailed.sum(), stats.rejected.sum(), stats.errorCount(), delta, p99);
        }
    }

    Map<Phase, Histogram> totals() {
        return totals;
    }

    List<Long> acknowledgedPerSecond() {
        return List.copyOf(acknowledgedPerSecond);
    }

    List<Double> messageP99PerSecond() {
        return List.copyOf(messageP99PerSecond);
    }

    @Override
    public void close() {
        if (hlog != null) {
            hlog.close();
        }
    }
}

package dev.tern.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Writes a run's report files into a directory: {@code report.json}, {@code report.html}, {@code summary.txt} and
 * one {@code <phase>.hgrm} percentile distribution per measured phase (values in milliseconds, the format
 * HdrHistogram's plotter reads). The {@code .hlog} interval log is written during the run (see
 * {@link LoadSpec#hlogFile()}). Stateless.
 */
public final class ReportFiles {
    private ReportFiles() {
    }

    /** Writes every file and returns their paths. */
    public static List<Path> write(LoadReport report, Path directory) throws IOException {
        Files.createDirectories(directory);
        List<Path> written = new ArrayList<>();
        written.add(Files.writeString(directory.resolve("report.json"), JsonReport.render(report)));
        written.add(Files.writeString(directory.resolve("report.html"), HtmlReport.render(report)));
        written.add(Files.writeString(directory.resolve("summary.txt"), TextReport.render(report)));
        for (Phase p : Phase.values()) {
            Histogram h = report.latency().get(p);
            if (h == null || h.getTotalCount() == 0) {
                continue;
            }
            Path file = directory.resolve(p.key() + ".hgrm");
            try (PrintStream out = new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
                h.outputPercentileDistribution(out, 5, 1000.0);
            }
            written.add(file);
        }
        return written;
    }
}

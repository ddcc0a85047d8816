package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.config.HostPort;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SmtpSink;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportFilesTest {
    @TempDir
    static Path dir;
    static LoadReport report;

    @BeforeAll
    static void runOnce() throws Exception {
        try (SmtpSink sink = SmtpSink.start(SinkSettings.builder().seed(2).tempfailDataRatio(0.1).build())) {
            LoadSpec spec = LoadSpec.builder(new HostPort("127.0.0.1", sink.localAddress().getPort()))
                    .connections(3).messages(120).size(SizeDistribution.parse("1k-8k"))
                    .hlogFile(dir.resolve("latency.hlog"))
                    .build();
            report = LoadGenerator.run(spec);
        }
        ReportFiles.write(report, dir);
    }

    @Test
    void jsonReportParsesAndMatchesTheRun() throws Exception {
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());

        assertThat(json.path("messages").path("acknowledged").asLong()).isEqualTo(report.acknowledged());
        assertThat(json.path("messages").path("tempfailed").asLong()).isEqualTo(report.tempfailed()).isPositive();
        assertThat(json.path("replies").path("451").asLong()).isEqualTo(report.tempfailed());
        assertThat(json.path("latency_ms").path("message").path("count").asLong()).isEqualTo(120);
        assertThat(json.path("latency_ms").path("end_of_data").path("p99").asDouble()).isPositive();
        assertThat(json.path("spec").path("size").asText()).isEqualTo("1024-8192");
        assertThat(json.path("messages_per_second").asDouble()).isPositive();
    }

    @Test
    void hgrmFilesHoldAPercentileDistributionPerPhase() throws Exception {
        for (String phase : List.of("connect", "ehlo", "mail", "rcpt", "data", "end_of_data", "message")) {
            List<String> lines = Files.readAllLines(dir.resolve(phase + ".hgrm"));
            assertThat(lines.getFirst().trim()).startsWith("Value");
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("#[Mean"));
            String firstRow = lines.get(2).trim();
            String[] columns = firstRow.split("\\s+");
            assertThat(Double.parseDouble(columns[0])).isNotNegative();
            assertThat(Double.parseDouble(columns[1])).isBetween(0.0, 1.0);
        }
        assertThat(dir.resolve("bdat_last.hgrm")).doesNotExist();
    }

    @Test
    void hlogHoldsTaggedIntervalsThatAddUpToTheTotals() throws Exception {
        long messages = 0;
        try (InputStream in = new FileInputStream(dir.resolve("latency.hlog").toFile())) {
            HistogramLogReader reader = new HistogramLogReader(in);
            EncodableHistogram h;
            while ((h = reader.nextIntervalHistogram()) != null) {
                if ("message".equals(h.getTag())) {
                    messages += ((org.HdrHistogram.Histogram) h).getTotalCount();
                }
            }
        }
        assertThat(messages).isEqualTo(120);
    }

    @Test
    void htmlReportIsSelfContainedWithAnSvgPlot() throws Exception {
        String html = Files.readString(dir.resolve("report.html"));

        assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg").contains("<polyline").contains("p99.9")
                .doesNotContain("<script").doesNotContain("http://cdn").doesNotContain("https://");
        assertThat(Files.readString(dir.resolve("summary.txt"))).contains("acknowledged " + report.acknowledged());
    }
}

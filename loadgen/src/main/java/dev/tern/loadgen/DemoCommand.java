package dev.tern.loadgen;

import dev.tern.Tern;
import dev.tern.cli.TernSubcommand;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.Durability;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SinkStats;
import dev.tern.sink.SmtpSink;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tern demo}: the whole data path on embedded defaults. A sink stands in for the next hop, a relay runs in this
 * JVM with its journal under {@code ./demo-data}, and the load generator sends a burst over real SMTP. It prints what
 * an operator asks first: how fast mail was accepted, how long the durable 250 took, where the journal is, and
 * whether every accepted message reached the next hop intact.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start a relay on embedded defaults, push a burst of mail through it with real SMTP, deliver it",
            "to an in-process sink, and print accepted msgs/s, end-of-data 250 latency and where the journal lies."})
public final class DemoCommand implements TernSubcommand, Callable<Integer> {
    @Option(names = {"-n", "--messages"}, defaultValue = "20000", description = "messages to send (${DEFAULT-VALUE})")
    long messages;

    @Option(names = {"-c", "--connections"}, defaultValue = "50", description = "SMTP connections (${DEFAULT-VALUE})")
    int connections;

    @Option(names = {"-s", "--size"}, defaultValue = "1k", description = "message size (${DEFAULT-VALUE})")
    String size;

    @Option(names = "--durability", defaultValue = "sync", description = "sync (fsync before 250) or os")
    String durability;

    @Option(names = "--data-dir", defaultValue = "demo-data", description = "journal directory, emptied first")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Durability mode;
        SizeDistribution sizes;
        try {
            mode = Durability.valueOf(durability.toUpperCase(Locale.ROOT));
            sizes = SizeDistribution.parse(size);
        } catch (IllegalArgumentException e) {
            System.err.println("tern demo: " + e.getMessage());
            return 2;
        }
        quietLogs();
        wipe(dataDir);
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults())) {
            HostPort sinkAddress = new HostPort("127.0.0.1", sink.localAddress().getPort());
            RelayConfig config = RelayConfig.defaults()
                    .withListen(new HostPort("127.0.0.1", 0))
                    .withDataDir(dataDir)
                    .withJournal(RelayConfig.defaults().journal().withDurability(mode))
                    .withDelivery(RelayConfig.defaults().delivery().withSmarthost(sinkAddress)
                            .withRetries(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), Duration.ofMinutes(5)));
            try (Tern tern = Tern.launch(config)) {
                HostPort relay = new HostPort("127.0.0.1", tern.smtpAddress().getPort());
                out.printf("tern demo: relay on %s (durability %s), journal %s, next hop: sink on %s%n", relay,
                        mode.name().toLowerCase(Locale.ROOT), dataDir.toAbsolutePath(), sinkAddress);
                out.printf("tern demo: sending %d messages of %s over %d connections (PIPELINING)...%n", messages,
                        size, connections);
                LoadReport report = LoadGenerator.run(LoadSpec.builder(relay).connections(connections)
                        .messages(messages).size(sizes).pipelining(true).progress(false)
                        .duration(Duration.ofMinutes(5)).build());
                SinkStats delivered = awaitDelivery(sink, report.acknowledged(), Duration.ofSeconds(60));
                print(out, report, delivered, tern);
                return report.acknowledged() == messages && delivered.messages() >= report.acknowledged()
                        && delivered.integrityFailures() == 0 ? 0 : 1;
            }
        }
    }

    /** The demo prints its own summary; per-message INFO lines would bury it. Warnings and errors still show. */
    private static void quietLogs() {
        if (org.slf4j.LoggerFactory.getLogger("dev.tern") instanceof ch.qos.logback.classic.Logger logger) {
            logger.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    private static SinkStats awaitDelivery(SmtpSink sink, long expected, Duration limit) throws InterruptedException {
        sink.awaitMessages(expected, limit);
        return sink.stats();
    }

    private static void print(PrintStream out, LoadReport r, SinkStats sink, Tern tern) throws IOException {
        LoadReport.Summary eod = r.summary(Phase.END_OF_DATA);
        out.println();
        out.printf(Locale.ROOT, "accepted      %d of %d messages (250), %d tempfailed, %d rejected, %d errors%n",
                r.acknowledged(), r.started(), r.tempfailed(), r.rejected(), r.errorCount());
        out.printf(Locale.ROOT, "rate          %.0f msgs/s accepted, %.1f MB/s of DATA%n", r.messagesPerSecond(),
                r.dataMegabytesPerSec());
        out.printf(Locale.ROOT, "end-of-data   250 latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (%s durability)%n",
                eod.p50(), eod.p99(), eod.max(),
                tern.config().journal().durability().name().toLowerCase(Locale.ROOT));
        out.printf(Locale.ROOT, "journal       %s (%d cycle file(s), %d messages committed, %d fsyncs: %.1f messages"
                        + " per group commit)%n", tern.config().dataDir().toAbsolutePath(),
                cycleFiles(tern.config().dataDir()), tern.journal().stats().messagesCommitted(),
                tern.journal().stats().syncs(),
                tern.journal().stats().messagesCommitted() / (double) Math.max(1, tern.journal().stats().syncs()));
        out.printf(Locale.ROOT, "delivered     %d messages at the sink, %d integrity failures, end-to-end p50 %.1f ms"
                        + " p99 %.1f ms%n", sink.messages(), sink.integrityFailures(),
                sink.latencyMicros().getTotalCount() == 0 ? 0 : sink.latencyMicros().getValueAtPercentile(50) / 1e3,
                sink.latencyMicros().getTotalCount() == 0 ? 0 : sink.latencyMicros().getValueAtPercentile(99) / 1e3);
    }

    private static long cycleFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).count();
        }
    }

    private static void wipe(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}

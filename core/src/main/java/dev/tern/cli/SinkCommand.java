package dev.tern.cli;

import dev.tern.config.ConfigLoader;
import dev.tern.config.HostPort;
import dev.tern.sink.SinkReport;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SinkStats;
import dev.tern.sink.SmtpSink;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tern sink}: a fast SMTP sink that counts, checks integrity stamps, measures latency and injects faults. */
@Command(name = "sink", mixinStandardHelpOptions = true,
        description = {"Run a fast SMTP sink (the downstream side of benchmarks): counts messages and bytes, verifies",
            "the load generator's X-Tern-Stamp digests, measures end-to-end latency, injects faults by ratio."})
final class SinkCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:2526",
            description = "address to listen on (default: ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the fault dice (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--tempfail-rcpt", defaultValue = "0", paramLabel = "RATIO",
            description = "share of RCPT answered 451")
    double tempfailRcpt;

    @Option(names = "--reject-rcpt", defaultValue = "0", paramLabel = "RATIO",
            description = "share of RCPT answered 550")
    double rejectRcpt;

    @Option(names = "--tempfail-data", defaultValue = "0", paramLabel = "RATIO",
            description = "share of messages answered 451 at end of data")
    double tempfailData;

    @Option(names = "--reject-data", defaultValue = "0", paramLabel = "RATIO",
            description = "share of messages answered 550 at end of data")
    double rejectData;

    @Option(names = "--disconnect-data", defaultValue = "0", paramLabel = "RATIO",
            description = "share of messages whose connection is cut inside DATA")
    double disconnectData;

    @Option(names = "--slow-replies", defaultValue = "0", paramLabel = "RATIO", description = "share of slow replies")
    double slowRatio;

    @Option(names = "--slow-delay", defaultValue = "200ms", paramLabel = "DURATION",
            description = "delay of a slow reply (default: ${DEFAULT-VALUE})")
    String slowDelay;

    @Option(names = "--no-pipelining", description = "do not advertise PIPELINING")
    boolean noPipelining;

    @Option(names = "--no-chunking", description = "do not advertise CHUNKING (BDAT)")
    boolean noChunking;

    @Option(names = "--size-limit", defaultValue = "0", description = "advertise and enforce SIZE (0: none)")
    long sizeLimit;

    @Option(names = "--duration", paramLabel = "DURATION", description = "stop after this long (default: until killed)")
    String duration;

    @Option(names = "--interval", defaultValue = "1s", paramLabel = "DURATION",
            description = "how often to print a stats line (default: ${DEFAULT-VALUE})")
    String interval;

    @Override
    public Integer call() throws Exception {
        SinkSettings settings;
        Duration every;
        Duration runFor;
        try {
            settings = SinkSettings.builder().listen(HostPort.parse(listen)).seed(seed)
                    .tempfailRcptRatio(tempfailRcpt).rejectRcptRatio(rejectRcpt)
                    .tempfailDataRatio(tempfailData).rejectDataRatio(rejectData).disconnectDataRatio(disconnectData)
                    .slowReplies(slowRatio, ConfigLoader.parseDuration(slowDelay))
                    .pipelining(!noPipelining).chunking(!noChunking).sizeLimit(sizeLimit).build();
            every = ConfigLoader.parseDuration(interval);
            runFor = duration == null ? null : ConfigLoader.parseDuration(duration);
        } catch (IllegalArgumentException e) {
            System.err.println("tern sink: " + e.getMessage());
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (SmtpSink sink = SmtpSink.start(settings)) {
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "tern-sink-shutdown"));
            System.out.println("tern sink: listening on " + sink.localAddress());
            long end = runFor == null ? Long.MAX_VALUE : System.nanoTime() + runFor.toNanos();
            SinkStats previous = sink.stats();
            while (System.nanoTime() < end && !stopped.await(every.toMillis(), TimeUnit.MILLISECONDS)) {
                SinkStats now = sink.stats();
                System.out.println(SinkReport.line(now, previous, every.toMillis() / 1000.0));
                previous = now;
            }
            System.out.print(SinkReport.summary(sink.stats()));
        }
        return 0;
    }
}

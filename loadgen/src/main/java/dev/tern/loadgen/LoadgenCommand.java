package dev.tern.loadgen;

import dev.tern.cli.TernSubcommand;
import dev.tern.config.HostPort;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tern loadgen}: drives SMTP load at a server and reports latency and throughput. */
@Command(name = "loadgen", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sends SMTP load to a server and reports per-phase latency, throughput and reply codes.",
            "Closed loop by default; --rate gives an open loop measured from each message's due time.",
            "Every run is bounded by --messages and --duration (whichever comes first)."})
public final class LoadgenCommand implements TernSubcommand, Callable<Integer> {
    @Option(names = {"-t", "--target"}, required = true, paramLabel = "HOST:PORT", description = "SMTP server.")
    String target;

    @Option(names = {"-c", "--connections"}, defaultValue = "8", paramLabel = "N",
            description = "Concurrent connections (${DEFAULT-VALUE}).")
    int connections;

    @Option(names = {"-n", "--messages"}, paramLabel = "N",
            description = "Messages to send, warm-up included (default 1000; with --duration, up to 100M).")
    Long messages;

    @Option(names = {"-d", "--duration"}, converter = DurationConverter.class, paramLabel = "TIME",
            description = "Stop starting messages after this long (default 10m cap).")
    Duration duration;

    @Option(names = {"-r", "--rate"}, defaultValue = "0", paramLabel = "MSG/S",
            description = "Open-loop target rate; 0 for closed loop (${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--per-connection", defaultValue = "100", paramLabel = "N",
            description = "Messages per connection before reconnecting; 0 for no limit (${DEFAULT-VALUE}).")
    int perConnection;

    @Option(names = "--rcpts", defaultValue = "1", paramLabel = "N",
            description = "Recipients per message (${DEFAULT-VALUE}).")
    int recipients;

    @Option(names = {"-s", "--size"}, defaultValue = "4k", paramLabel = "SIZE",
            description = "Message size: 4k, a range 1k-64k, or lognormal:4k,1.0 (${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--pipelining", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Use PIPELINING when offered (default on).")
    boolean pipelining;

    @Option(names = "--bdat", description = "Send content with BDAT when CHUNKING is offered.")
    boolean bdat;

    @Option(names = "--starttls", defaultValue = "never", paramLabel = "MODE",
            description = "Start TLS (RFC 3207) on the load connections: never, offered (when the EHLO reply offers "
                + "it) or required (${DEFAULT-VALUE}). Idle sessions stay in plaintext.")
    String startTls;

    @Option(names = "--tls-trust", paramLabel = "FILE",
            description = "PEM certificates the server's chain must lead to, its name checked against the target host "
                + "(default: any certificate is accepted).")
    Path tlsTrust;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "N", description = "Unmeasured first messages.")
    long warmupMessages;

    @Option(names = "--warmup-time", defaultValue = "0s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Unmeasured first part of the run.")
    Duration warmupTime;

    @Option(names = "--drain-timeout", defaultValue = "30s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Time allowed for messages in flight after --duration (${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Option(names = "--connect-timeout", defaultValue = "5s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "TCP connect timeout (${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--reply-timeout", defaultValue = "30s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "Longest wait for one reply (${DEFAULT-VALUE}).")
    Duration replyTimeout;

    @Option(names = "--helo", paramLabel = "NAME", defaultValue = "loadgen.tern.test",
            description = "EHLO name and Message-ID domain.")
    String helo;

    @Option(names = "--from", paramLabel = "ADDRESS", defaultValue = "loadgen@loadgen.tern.test",
            description = "MAIL FROM address.")
    String mailFrom;

    @Option(names = "--rcpt-domain", paramLabel = "DOMAIN", defaultValue = "sink.tern.test",
            description = "Domain of the recipients.")
    String recipientDomain;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed for sizes and content.")
    long seed;

    @Option(names = "--ids", paramLabel = "FILE",
            description = "Write one line per acknowledged message: queue id <TAB> Message-ID.")
    Path idsFile;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR",
            description = "Write report.json, report.html, summary.txt, <phase>.hgrm and latency.hlog here.")
    Path outDir;

    @Option(names = "--hlog", paramLabel = "FILE",
            description = "HdrHistogram interval log (default DIR/latency.hlog).")
    Path hlogFile;

    @Option(names = "--json", description = "Print the report as JSON instead of text.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "No progress line each second.")
    boolean quiet;

    @Option(names = "--idle", defaultValue = "0", paramLabel = "N",
            description = "Hold N extra mostly-idle sessions open during the run (e.g. 10000).")
    int idleConnections;

    @Option(names = "--idle-keepalive", defaultValue = "60s", converter = DurationConverter.class, paramLabel = "TIME",
            description = "An idle session sends NOOP after this long (${DEFAULT-VALUE}).")
    Duration idleKeepAlive;

    @Option(names = "--fail-on-error", description = "Exit 1 unless every message was acknowledged without errors.")
    boolean failOnError;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Override
    public Integer call() throws Exception {
        LoadSpec spec = toSpec();
        PrintStream out = System.out;
        LoadReport report = LoadGenerator.run(spec, quiet ? null : System.err);
        if (outDir != null) {
            ReportFiles.write(report, outDir);
        }
        out.print(json ? JsonReport.render(report) : TextReport.render(report));
        out.flush();
        boolean clean = report.acknowledged() == report.started() && report.errorCount() == 0;
        return failOnError && !clean ? 1 : 0;
    }

    LoadSpec toSpec() {
        HostPort hostPort;
        SizeDistribution sizes;
        StartTls tls;
        try {
            hostPort = HostPort.parse(target);
            sizes = SizeDistribution.parse(size);
            tls = StartTls.parse(startTls);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine(), e.getMessage());
        }
        if (tlsTrust != null && !Files.isReadable(tlsTrust)) {
            throw new CommandLine.ParameterException(commandLine(), "--tls-trust: cannot read " + tlsTrust);
        }
        Path hlog = hlogFile != null ? hlogFile : outDir != null ? outDir.resolve("latency.hlog") : null;
        LoadSpec.Builder b = LoadSpec.builder(hostPort).connections(connections).rate(rate)
                .messagesPerConnection(perConnection).recipients(recipients).size(sizes).pipelining(pipelining)
                .bdat(bdat).startTls(tls).tlsTrust(tlsTrust).warmupMessages(warmupMessages).warmupTime(warmupTime)
                .drainTimeout(drainTimeout)
                .connectTimeout(connectTimeout).replyTimeout(replyTimeout).helo(helo).mailFrom(mailFrom)
                .recipientDomain(recipientDomain).seed(seed).idsFile(idsFile).hlogFile(hlog).progress(!quiet)
                .idleConnections(idleConnections).idleKeepAlive(idleKeepAlive);
        if (messages != null) {
            b.messages(messages);
        }
        if (duration != null) {
            b.duration(duration);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine(), e.getMessage());
        }
    }

    private CommandLine commandLine() {
        return commandSpec != null ? commandSpec.commandLine() : new CommandLine(this);
    }
}

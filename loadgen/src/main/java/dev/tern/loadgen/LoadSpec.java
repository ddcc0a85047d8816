package dev.tern.loadgen;

import dev.tern.config.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a load run does. Every run is bounded both in messages ({@link #messages()}) and in time
 * ({@link #duration()} to start messages, plus {@link #drainTimeout()} for the ones in flight).
 *
 * <p>Closed loop ({@code rate == 0}): each connection sends its next message as soon as the previous one is
 * answered. Open loop ({@code rate > 0}): message {@code k} is due at {@code start + k / rate} whatever happens to
 * earlier ones, and its latency is measured from that due time, so a stalled server is charged for every message
 * that queued behind the stall (no coordinated omission).
 *
 * @param target                 the SMTP server
 * @param connections            concurrent connections (one thread each)
 * @param messages               messages to start in total, warm-up included
 * @param duration               stop starting messages after this long
 * @param rate                   open-loop target in messages per second; 0 for closed loop
 * @param messagesPerConnection  messages sent over one connection before QUIT and reconnect; 0 for no limit
 * @param recipients             RCPT TO commands per message
 * @param size                   message size distribution (headers included)
 * @param pipelining             send MAIL/RCPT/DATA as one batch when the server offers PIPELINING (RFC 2920)
 * @param bdat                   send the content with BDAT when the server offers CHUNKING (RFC 3030)
 * @param startTls               whether the load connections start TLS (RFC 3207) after the first EHLO; idle sessions
 *                               always stay in plaintext
 * @param tlsTrust               PEM certificates the server's chain must lead to (with its name checked against the
 *                               target host), or {@code null} to accept any certificate
 * @param warmupMessages         the first messages, not measured
 * @param warmupTime             the first part of the run, not measured
 * @param drainTimeout           how long messages in flight may take once {@link #duration()} has passed
 * @param connectTimeout         TCP connect timeout
 * @param replyTimeout           longest wait for one reply
 * @param helo                   EHLO argument
 * @param mailFrom               reverse path
 * @param recipientDomain        domain of the generated recipients
 * @param seed                   seed for sizes and content
 * @param idsFile                file that receives one line per acknowledged message, or {@code null}
 * @param hlogFile               HdrHistogram interval log written during the run, or {@code null}
 * @param progress               print a progress line every second (to standard error)
 * @param idleConnections        extra sessions opened before the load and held mostly idle (0: none), to measure
 *                               new-session latency while a server holds many connections
 * @param idleKeepAlive          an idle session sends NOOP after this long without traffic
 */
public record LoadSpec(HostPort target, int connections, long messages, Duration duration, double rate,
                       int messagesPerConnection, int recipients, SizeDistribution size, boolean pipelining,
                       boolean bdat, StartTls startTls, Path tlsTrust, long warmupMessages, Duration warmupTime,
                       Duration drainTimeout, Duration connectTimeout, Duration replyTimeout, String helo,
                       String mailFrom, String recipientDomain, long seed, Path idsFile, Path hlogFile,
                       boolean progress, int idleConnections, Duration idleKeepAlive) {

    /** Messages started when only a duration was given. */
    public static final long DEFAULT_MESSAGE_CAP = 100_000_000L;
    /** Run length when only a message count was given. */
    public static final Duration DEFAULT_TIME_CAP = Duration.ofMinutes(10);

    public LoadSpec {
        List<String> errors = new ArrayList<>();
        if (target == null) {
            errors.add("target is required");
        }
        if (connections < 1 || connections > 100_000) {
            errors.add("connections must be 1..100000: " + connections);
        }
        if (messages < 1) {
            errors.add("messages must be at least 1: " + messages);
        }
        if (duration == null || duration.isNegative() || duration.isZero()) {
            errors.add("duration must be positive");
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            errors.add("rate must be >= 0: " + rate);
        }
        if (messagesPerConnection < 0) {
            errors.add("messagesPerConnection must be >= 0");
        }
        if (recipients < 1 || recipients > 1000) {
            errors.add("recipients must be 1..1000: " + recipients);
        }
        if (size == null) {
            errors.add("size is required");
        }
        if (startTls == null) {
            errors.add("startTls is required (never, offered or required)");
        } else if (tlsTrust != null && startTls == StartTls.NEVER) {
            errors.add("a TLS trust file needs STARTTLS (offered or required)");
        }
        if (warmupMessages < 0 || warmupTime == null || warmupTime.isNegative()) {
            errors.add("warm-up must not be negative");
        }
        for (Duration d : new Duration[] {drainTimeout, connectTimeout, replyTimeout}) {
            if (d == null || d.isNegative() || d.isZero()) {
                errors.add("drain, connect and reply timeouts must be positive");
                break;
            }
        }
        if (helo == null || helo.isBlank() || mailFrom == null
                || recipientDomain == null || recipientDomain.isBlank()) {
            errors.add("helo, mailFrom and recipientDomain are required");
        }
        if (idleConnections < 0 || idleConnections > 1_000_000 || idleKeepAlive == null || idleKeepAlive.isNegative()
                || idleKeepAlive.isZero()) {
            errors.add("idleConnections must be 0..1000000 and idleKeepAlive positive");
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", errors));
        }
    }

    public boolean openLoop() {
        return rate > 0;
    }

    public static Builder builder(HostPort target) {
        return new Builder(target);
    }

    /** Mutable builder with defaults for a short closed-loop run; not thread-safe. */
    public static final class Builder {
        private final HostPort target;
        private int connections = 8;
        private Long messages;
        private Duration duration;
        private double rate;
        private int messagesPerConnection = 100;
        private int recipients = 1;
        private SizeDistribution size = new SizeDistribution.Fixed(4096);
        private boolean pipelining = true;
        private boolean bdat;
        private StartTls startTls = StartTls.NEVER;
        private Path tlsTrust;
        private long warmupMessages;
        private Duration warmupTime = Duration.ZERO;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration replyTimeout = Duration.ofSeconds(30);
        private String helo = "loadgen.tern.test";
        private String mailFrom = "loadgen@loadgen.tern.test";
        private String recipientDomain = "sink.tern.test";
        private long seed = 1;
        private Path idsFile;
        private Path hlogFile;
        private boolean progress;
        private int idleConnections;
        private Duration idleKeepAlive = Duration.ofSeconds(60);

        private Builder(HostPort target) {
            this.target = target;
        }

        public Builder connections(int v) {
            connections = v;
            return this;
        }

        public Builder messages(long v) {
            messages = v;
            return this;
        }

        public Builder duration(Duration v) {
            duration = v;
            return this;
        }

        public Builder rate(double v) {
            rate = v;
            return this;
        }

        public Builder messagesPerConnection(int v) {
            messagesPerConnection = v;
            return this;
        }

        public Builder recipients(int v) {
            recipients = v;
            return this;
        }

        public Builder size(SizeDistribution v) {
            size = v;
            return this;
        }

        public Builder pipelining(boolean v) {
            pipelining = v;
            return this;
        }

        public Builder bdat(boolean v) {
            bdat = v;
            return this;
        }

        public Builder startTls(StartTls v) {
            startTls = v;
            return this;
        }

        public Builder tlsTrust(Path v) {
            tlsTrust = v;
            return this;
        }

        public Builder warmupMessages(long v) {
            warmupMessages = v;
            return this;
        }

        public Builder warmupTime(Duration v) {
            warmupTime = v;
            return this;
        }

        public Builder drainTimeout(Duration v) {
            drainTimeout = v;
            return this;
        }

        public Builder connectTimeout(Duration v) {
            connectTimeout = v;
            return this;
        }

        public Builder replyTimeout(Duration v) {
            replyTimeout = v;
            return this;
        }

        public Builder helo(String v) {
            helo = v;
            return this;
        }

        public Builder mailFrom(String v) {
            mailFrom = v;
            return this;
        }

        public Builder recipientDomain(String v) {
            recipientDomain = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder idsFile(Path v) {
            idsFile = v;
            return this;
        }

        public Builder hlogFile(Path v) {
            hlogFile = v;
            return this;
        }

        public Builder progress(boolean v) {
            progress = v;
            return this;
        }

        public Builder idleConnections(int v) {
            idleConnections = v;
            return this;
        }

        public Builder idleKeepAlive(Duration v) {
            idleKeepAlive = v;
            return this;
        }

        /** Fills in the missing bound: a count alone gets a 10-minute cap, a duration alone a 100M-message cap. */
        public LoadSpec build() {
            long m = messages != null ? messages : duration != null ? DEFAULT_MESSAGE_CAP : 1000;
            Duration d = duration != null ? duration : DEFAULT_TIME_CAP;
            return new LoadSpec(target, connections, m, d, rate, messagesPerConnection, recipients, size, pipelining,
                    bdat, startTls, tlsTrust, warmupMessages, warmupTime, drainTimeout, connectTimeout, replyTimeout,
                    helo, mailFrom, recipientDomain, seed, idsFile, hlogFile, progress, idleConnections, idleKeepAlive);
        }
    }
}

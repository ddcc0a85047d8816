package dev.tern.sink;

import dev.tern.config.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Settings of an {@link SmtpSink}: where it listens, what it advertises, and which faults it injects.
 *
 * <p>Fault ratios are probabilities in [0, 1], drawn from a random stream seeded by {@link #seed()} and the
 * connection's ordinal, so one client sending the same commands sees the same faults on every run. Per-recipient
 * ratios are drawn once per RCPT, so one transaction can get some recipients 250 and others 4xx/5xx. Besides the
 * ratios, {@link #addressFaults()} makes recipients whose local part starts with {@code tempfail} get 451 and
 * {@code reject} get 550, which lets a test pick its outcome per address.
 *
 * @param listen              address to bind; port 0 picks an ephemeral port
 * @param seed                seed of the fault dice
 * @param tempfailRcptRatio   share of RCPT commands answered 451
 * @param rejectRcptRatio     share of RCPT commands answered 550
 * @param tempfailDataRatio   share of messages answered 451 at end of data
 * @param rejectDataRatio     share of messages answered 550 at end of data
 * @param disconnectDataRatio share of messages whose connection is closed in the middle of DATA/BDAT, unanswered
 * @param slowReplyRatio      share of replies sent only after {@link #slowReplyDelay()}
 * @param slowReplyDelay      how long a slow reply waits
 * @param pipelining          advertise PIPELINING (RFC 2920)
 * @param chunking            advertise CHUNKING and accept BDAT (RFC 3030)
 * @param eightBitMime        advertise 8BITMIME (RFC 6152)
 * @param sizeLimit           advertise SIZE with this limit and enforce it (RFC 1870); 0 means no limit, not advertised
 * @param addressFaults       honour the {@code tempfail*} / {@code reject*} recipient local parts
 * @param keepMessages        keep every accepted message for {@link SmtpSink#received()} (tests; memory grows)
 * @param listener            called on the connection's thread for each accepted message, or {@code null}
 * @param greeting            domain in the 220 greeting and the EHLO reply
 * @param messageIdsFile      if not {@code null}, each accepted message's Message-ID is appended to this file, one
 *                            line per delivery (duplicates included), so a crash test can compare what the relay
 *                            acknowledged with what arrived
 */
public record SinkSettings(HostPort listen, long seed,
                           double tempfailRcptRatio, double rejectRcptRatio,
                           double tempfailDataRatio, double rejectDataRatio, double disconnectDataRatio,
                           double slowReplyRatio, Duration slowReplyDelay,
                           boolean pipelining, boolean chunking, boolean eightBitMime, long sizeLimit,
                           boolean addressFaults, boolean keepMessages, Consumer<ReceivedMessage> listener,
                           String greeting, Path messageIdsFile) {
    /** How far the fault ratios of one step may add up beyond 1 in binary, when in decimal they make exactly 1. */
    private static final double RATIO_SUM_SLACK = 1e-9;

    public SinkSettings {
        if (listen == null || slowReplyDelay == null || greeting == null || greeting.isBlank()) {
            throw new IllegalArgumentException("listen, slowReplyDelay and greeting are required");
        }
        checkRatio("tempfailRcptRatio", tempfailRcptRatio);
        checkRatio("rejectRcptRatio", rejectRcptRatio);
        checkRatio("tempfailDataRatio", tempfailDataRatio);
        checkRatio("rejectDataRatio", rejectDataRatio);
        checkRatio("disconnectDataRatio", disconnectDataRatio);
        checkRatio("slowReplyRatio", slowReplyRatio);
        // Decimal ratios rarely add up exactly in binary (0.33 + 0.56 + 0.11 > 1.0): allow for the rounding.
        if (tempfailRcptRatio + rejectRcptRatio > 1.0 + RATIO_SUM_SLACK
                || tempfailDataRatio + rejectDataRatio + disconnectDataRatio > 1.0 + RATIO_SUM_SLACK) {
            throw new IllegalArgumentException("fault ratios of one step add up to more than 1");
        }
        if (slowReplyDelay.isNegative() || sizeLimit < 0) {
            throw new IllegalArgumentException("slowReplyDelay and sizeLimit must not be negative");
        }
    }

    private static void checkRatio(String name, double value) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(name + " must be in [0, 1]: " + value);
        }
    }

    /** A builder listening on 127.0.0.1, ephemeral port, no faults, every extension advertised. */
    public static Builder builder() {
        return new Builder();
    }

    /** Loopback, ephemeral port, no faults, every extension on. */
    public static SinkSettings defaults() {
        return builder().build();
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.listen = listen;
        b.seed = seed;
        b.tempfailRcptRatio = tempfailRcptRatio;
        b.rejectRcptRatio = rejectRcptRatio;
        b.tempfailDataRatio = tempfailDataRatio;
        b.rejectDataRatio = rejectDataRatio;
        b.disconnectDataRatio = disconnectDataRatio;
        b.slowReplyRatio = slowReplyRatio;
        b.slowReplyDelay = slowReplyDelay;
        b.pipelining = pipelining;
        b.chunking = chunking;
        b.eightBitMime = eightBitMime;
        b.sizeLimit = sizeLimit;
        b.addressFaults = addressFaults;
        b.keepMessages = keepMessages;
        b.listener = listener;
        b.greeting = greeting;
        b.messageIdsFile = messageIdsFile;
        return b;
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private HostPort listen = new HostPort("127.0.0.1", 0);
        private long seed = 1;
        private double tempfailRcptRatio;
        private double rejectRcptRatio;
        private double tempfailDataRatio;
        private double rejectDataRatio;
        private double disconnectDataRatio;
        private double slowReplyRatio;
        private Duration slowReplyDelay = Duration.ZERO;
        private boolean pipelining = true;
        private boolean chunking = true;
        private boolean eightBitMime = true;
        private long sizeLimit;
        private boolean addressFaults = true;
        private boolean keepMessages;
        private Consumer<ReceivedMessage> listener;
        private String greeting = "sink.tern.test";
        private Path messageIdsFile;

        private Builder() {
        }

        public Builder listen(HostPort v) {
            listen = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder tempfailRcptRatio(double v) {
            tempfailRcptRatio = v;
            return this;
        }

        public Builder rejectRcptRatio(double v) {
            rejectRcptRatio = v;
            return this;
        }

        public Builder tempfailDataRatio(double v) {
            tempfailDataRatio = v;
            return this;
        }

        public Builder rejectDataRatio(double v) {
            rejectDataRatio = v;
            return this;
        }

        public Builder disconnectDataRatio(double v) {
            disconnectDataRatio = v;
            return this;
        }

        public Builder slowReplies(double ratio, Duration delay) {
            slowReplyRatio = ratio;
            slowReplyDelay = delay;
            return this;
        }

        public Builder pipelining(boolean v) {
            pipelining = v;
            return this;
        }

        public Builder chunking(boolean v) {
            chunking = v;
            return this;
        }

        public Builder eightBitMime(boolean v) {
            eightBitMime = v;
            return this;
        }

        public Builder sizeLimit(long v) {
            sizeLimit = v;
            return this;
        }

        public Builder addressFaults(boolean v) {
            addressFaults = v;
            return this;
        }

        public Builder keepMessages(boolean v) {
            keepMessages = v;
            return this;
        }

        public Builder listener(Consumer<ReceivedMessage> v) {
            listener = v;
            return this;
        }

        public Builder greeting(String v) {
            greeting = v;
            return this;
        }

        public Builder messageIdsFile(Path v) {
            messageIdsFile = v;
            return this;
        }

        /**
         * Sets fault ratios from a compact text, as a command line gives them: comma-separated {@code name=value}
         * pairs with names {@code tempfail-rcpt}, {@code reject-rcpt}, {@code tempfail-data}, {@code reject-data},
         * {@code disconnect-data} (ratios) and {@code slow} ({@code RATIO:MILLIS}), e.g.
         * {@code tempfail-rcpt=0.1,slow=0.01:200}. Throws {@link IllegalArgumentException} naming the bad pair.
         */
        public Builder faults(String text) {
            for (String pair : text.split(",")) {
                String p = pair.trim();
                if (p.isEmpty()) {
                    continue;
                }
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected NAME=VALUE in faults, got '" + p + "'");
                }
                String name = p.substring(0, eq).trim();
                String value = p.substring(eq + 1).trim();
                try {
                    switch (name) {
                        case "tempfail-rcpt" -> tempfailRcptRatio = ratio(value);
                        case "reject-rcpt" -> rejectRcptRatio = ratio(value);
                        case "tempfail-data" -> tempfailDataRatio = ratio(value);
                        case "reject-data" -> rejectDataRatio = ratio(value);
                        case "disconnect-data" -> disconnectDataRatio = ratio(value);
                        case "slow" -> {
                            int colon = value.indexOf(':');
                            if (colon <= 0) {
                                throw new IllegalArgumentException("slow=RATIO:MILLIS, got '" + value + "'");
                            }
                            slowReplyRatio = ratio(value.substring(0, colon));
                            slowReplyDelay = Duration.ofMillis(Long.parseLong(value.substring(colon + 1)));
                        }
                        default -> throw new IllegalArgumentException("unknown fault '" + name + "' (known: "
                                + "tempfail-rcpt, reject-rcpt, tempfail-data, reject-data, disconnect-data, slow)");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad number in fault '" + p + "'");
                }
            }
            return this;
        }

        /** A ratio's text as a double; "-0" reads as 0, not as -0.0, which Double.compare orders below 0. */
        private static double ratio(String text) {
            return Double.parseDouble(text) + 0.0;
        }

        public SinkSettings build() {
            return new SinkSettings(listen, seed, tempfailRcptRatio, rejectRcptRatio, tempfailDataRatio,
                    rejectDataRatio, disconnectDataRatio, slowReplyRatio, slowReplyDelay, pipelining, chunking,
                    eightBitMime, sizeLimit, addressFaults, keepMessages, listener, greeting, messageIdsFile);
        }
    }
}

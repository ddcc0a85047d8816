package dev.tern.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link LineEncoder} writes exactly what logback's {@code PatternLayoutEncoder} writes for the same pattern, for any
 * event (the ones it lays out itself and the ones it hands over), and a line it lays out leaves no garbage behind.
 * jqwik prints the seed of a failure.
 */
class LineEncoderTest {
    private final LoggerContext context = context();
    private final LineEncoder encoder = start(new LineEncoder());
    private final PatternLayoutEncoder reference = reference();

    @Property(tries = 3000)
    void writesWhatPatternLayoutWrites(@ForAll("events") LoggingEvent event) {
        String expected = new String(reference.encode(event), StandardCharsets.UTF_8);
        assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8)).isEqualTo(expected);
        LineBuffer line = new LineBuffer(16);
        line.append((byte) '>');
        if (encoder.layOut(event, line)) {
            assertThat(new String(line.array(), 0, line.length(), StandardCharsets.UTF_8)).isEqualTo(">" + expected);
        } else {
            assertThat(line.length()).as("a refused line leaves the buffer as it was").isEqualTo(1);
        }
    }

    @Example
    void laysOutTheRelaysOwnLinesItself() {
        LoggingEvent accepted = event(Level.INFO, "dev.tern.session.SessionEngine",
                "accepted id={} from=<{}> nrcpt={} size={} client={}",
                new Object[] {"1A2160C524300009", "a@example.com", 1, 1187L, "127.0.0.1:40000"}, 1_764_130_000_123L);
        LoggingEvent delivered = event(Level.INFO, "dev.tern.delivery.DeliveryEngine",
                "{}: to=<{}>, relay={}, attempt={}, status={} ({})", new Object[] {"1A2160C524300009",
                    "b@example.net", "127.0.0.1:2600", 1, Outcome.DELIVERED, "250 2.0.0 Ok"}, 1_764_130_000_999L);
        for (LoggingEvent e : List.of(accepted, delivered)) {
            LineBuffer line = new LineBuffer(64);
            assertThat(encoder.layOut(e, line)).isTrue();
            assertThat(new String(line.array(), 0, line.length(), StandardCharsets.US_ASCII))
                    .isEqualTo(new String(reference.encode(e), StandardCharsets.US_ASCII));
        }
    }

    @Example
    void aLineThroughTheAppenderAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteArrayOutputStream sink = new ByteArrayOutputStream(1 << 20) {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                reset(); // keep the sink from growing: only the appender's own allocations count
                super.write(b, off, len);
            }
        };
        BufferedStderrAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new BufferedStderrAppender<>(sink);
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setFlushIntervalMillis(60_000);
        appender.start();
        LoggingEvent e = event(Level.INFO, "dev.tern.delivery.DeliveryEngine", "{}: to=<{}>, attempt={}",
                new Object[] {"1A2160C524300009", "b@example.net", 1}, System.currentTimeMillis());
        e.getThreadName(); // logback captures it on first use
        try {
            for (int i = 0; i < 20_000; i++) {
                appender.doAppend(e);
            }
            long tid = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 20_000; i++) {
                appender.doAppend(e);
            }
            long allocated = threads.getThreadAllocatedBytes(tid) - before;
            // Measured: 208 bytes for the 20,000 here; through a PatternLayoutEncoder, 11.2 MB (560 bytes a line).
            assertThat(allocated).as("bytes allocated for 20,000 lines").isLessThan(64 * 1024);
        } finally {
            appender.stop();
        }
    }

    @Example
    void aLongLineGoesOutWholeAndTheNextAfterIt() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        BufferedStderrAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new BufferedStderrAppender<>(sink);
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
        LoggingEvent longLine = event(Level.WARN, "dev.tern.Tern", "x".repeat(200_000) + " {}",
                new Object[] {"end"}, 1_764_130_000_000L);
        LoggingEvent shortLine = event(Level.INFO, "dev.tern.Tern", "short", null, 1_764_130_000_001L);
        appender.doAppend(longLine);
        appender.doAppend(shortLine);
        appender.stop();
        assertThat(sink.toString(StandardCharsets.UTF_8)).isEqualTo(
                new String(reference.encode(longLine), StandardCharsets.UTF_8)
                        + new String(reference.encode(shortLine), StandardCharsets.UTF_8));
    }

    enum Outcome { DELIVERED }

    @Provide
    Arbitrary<LoggingEvent> events() {
        Arbitrary<Level> levels = Arbitraries.of(Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR);
        Arbitrary<String> loggers = Arbitraries.of("dev.tern.delivery.DeliveryEngine", "dev.tern.session.Session",
                "net.openhft.chronicle.queue.impl.single.StoreAppender", "X", "a.b.C", "dev.tern.Tern");
        Arbitrary<String> messages = Arbitraries.of("{}", "{} ", " {}", "{", "}", "text", " ", "\\", "{}{}", "é", "\n",
                "=", "<", "\\{}").list().ofMaxSize(8).map(parts -> String.join("", parts));
        Arbitrary<Object> argument = Arbitraries.oneOf(Arbitraries.strings().ascii().ofMaxLength(12).map(s -> s),
                Arbitraries.longs().map(n -> n), Arbitraries.integers().map(n -> n), Arbitraries.just(null),
                Arbitraries.of(Outcome.DELIVERED), Arbitraries.just(new int[] {1, 2}),
                Arbitraries.strings().ofMaxLength(6).map(s -> s), Arbitraries.just(new IllegalStateException("x")),
                Arbitraries.doubles().map(d -> d));
        Arbitrary<Object[]> arguments = argument.list().ofMaxSize(5).map(List::toArray).injectNull(0.2);
        Arbitrary<Long> times = Arbitraries.longs().between(0, 4_000_000_000_000L);
        return Combinators.combine(levels, loggers, messages, arguments, times)
                .as((level, logger, message, args, time) -> event(level, logger, message, args, time));
    }

    private LoggingEvent event(Level level, String logger, String message, Object[] args, long time) {
        LoggingEvent e = new LoggingEvent("test", context.getLogger(logger), level, message, null, args);
        e.setTimeStamp(time);
        return e;
    }

    private static LoggerContext context() {
        LoggerContext c = new LoggerContext();
        c.setMDCAdapter(new LogbackMDCAdapter());
        return c;
    }

    private LineEncoder start(LineEncoder e) {
        e.setContext(context);
        e.start();
        return e;
    }

    private PatternLayoutEncoder reference() {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(context);
        e.setPattern(LineEncoder.PATTERN);
        e.setCharset(StandardCharsets.UTF_8);
        e.start();
        return e;
    }
}

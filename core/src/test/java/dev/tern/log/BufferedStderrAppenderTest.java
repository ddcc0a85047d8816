package dev.tern.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class BufferedStderrAppenderTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final LoggerContext context = new LoggerContext();

    private BufferedStderrAppender<ILoggingEvent> appender(long flushMillis) {
        context.setMDCAdapter(new LogbackMDCAdapter());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        BufferedStderrAppender<ILoggingEvent> appender = new BufferedStderrAppender<>(out);
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setFlushIntervalMillis(flushMillis);
        appender.start();
        return appender;
    }

    private void log(BufferedStderrAppender<ILoggingEvent> appender, String message) {
        appender.doAppend(new LoggingEvent("test", context.getLogger("test"), Level.INFO, message, null, null));
    }

    private String written() {
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void holdsLinesUntilTheIntervalThenWritesThemTogether() {
        BufferedStderrAppender<ILoggingEvent> appender = appender(60_000);
        try {
            log(appender, "accepted one");
            log(appender, "accepted two");
            assertThat(written()).isEmpty();
        } finally {
            appender.stop();
        }
        assertThat(written()).isEqualTo("accepted one\naccepted two\n");
    }

    @Test
    void flushesOnTheIntervalWithoutFurtherLines() throws InterruptedException {
        BufferedStderrAppender<ILoggingEvent> appender = appender(20);
        try {
            log(appender, "delivered");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (written().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(written()).isEqualTo("delivered\n");
        } finally {
            appender.stop();
        }
    }

    @Test
    void rejectsANonPositiveInterval() {
        BufferedStderrAppender<ILoggingEvent> appender = new BufferedStderrAppender<>(out);
        assertThatIllegalArgumentException().isThrownBy(() -> appender.setFlushIntervalMillis(0));
    }
}

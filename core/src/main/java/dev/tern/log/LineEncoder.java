package dev.tern.log;

import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import dev.tern.buffer.SecondText;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The relay's log line, {@value #PATTERN} in logback's pattern language, laid out straight into bytes.
 *
 * <p>Why: logback's {@code PatternLayoutEncoder} builds the formatted message as a String, then the whole line as
 * another, then that line's bytes. For the two lines the relay logs per message (accepted, delivered) that was 3.6 KiB
 * of garbage per message at full load, half of all the relay allocated. Here the date text is made once per second,
 * each logger's abbreviated name once, and the message's {@code {}} placeholders are filled in while the line is
 * copied, numbers without a String. {@code LineEncoderTest} holds the output to a {@code PatternLayoutEncoder}'s.
 *
 * <p>Lines this does not lay out itself go through a {@code PatternLayoutEncoder} with the same pattern: events with
 * a throwable, non-ASCII text, a backslash in the message (SLF4J's escapes) or array arguments. To change the
 * layout, configure a {@code PatternLayoutEncoder} instead; {@link BufferedStderrAppender} works with either.
 *
 * <p>Threading: {@link #layOut} writes into the caller's {@link LineBuffer}; the caches are thread-safe.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";
    private final TargetLengthBasedClassNameAbbreviator abbreviator = new TargetLengthBasedClassNameAbbreviator(20);
    private final ConcurrentHashMap<String, byte[]> loggerNames = new ConcurrentHashMap<>();
    /** logback's %d is in the JVM's default zone. */
    private final SecondText seconds =
            new SecondText(DateTimeFormatter.ofPattern("HH:mm:ss.").withZone(ZoneId.systemDefault()));
    private PatternLayoutEncoder fallback;

    @Override
    public void start() {
        fallback = new PatternLayoutEncoder();
        fallback.setContext(getContext());
        fallback.setPattern(PATTERN);
        fallback.setCharset(StandardCharsets.UTF_8);
        fallback.start();
        super.start();
    }

    @Override
    public void stop() {
        fallback.stop();
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    /** The generic path (any appender): one array per line. */
    @Override
    public byte[] encode(ILoggingEvent event) {
        LineBuffer line = new LineBuffer(256);
        return layOut(event, line) ? line.toByteArray() : fallback.encode(event);
    }

    /**
     * Appends the event's line to {@code line} and returns true, or returns false, leaving {@code line} as it was,
     * when the line must go through {@link #encode} (see the class comment).
     */
    boolean layOut(ILoggingEvent event, LineBuffer line) {
        if (event.getThrowableProxy() != null) {
            return false;
        }
        int start = line.length();
        long millis = event.getTimeStamp();
        line.append(seconds.at(millis));
        line.appendDigits(Math.floorMod(millis, 1000L), 3);
        line.append((byte) ' ');
        String level = event.getLevel().toString();
        if (!line.appendAscii(level)) {
            return reset(line, start);
        }
        for (int i = level.length(); i < 5; i++) {
            line.append((byte) ' ');
        }
        line.append((byte) ' ').append((byte) '[');
        if (!line.appendAscii(event.getThreadName())) {
            return reset(line, start);
        }
        line.append((byte) ']').append((byte) ' ');
        line.append(loggerName(event.getLoggerName()));
        line.append((byte) ' ').append((byte) '-').append((byte) ' ');
        if (!appendMessage(event.getMessage(), event.getArgumentArray(), line)) {
            return reset(line, start);
        }
        line.append((byte) '\n');
        return true;
    }

    /** SLF4J's substitution: each {@code {}} takes the next argument; without arguments the text is as written. */
    private static boolean appendMessage(String message, Object[] args, LineBuffer line) {
        if (message == null) {
            return line.appendAscii("null");
        }
        if (args == null || args.length == 0) {
            return line.appendAscii(message);
        }
        if (message.indexOf('\\') >= 0) {
            return false;
        }
        int from = 0;
        int next = 0;
        while (true) {
            int at = message.indexOf("{}", from);
            if (at < 0 || next == args.length) {
                return line.appendAscii(message, from, message.length());
            }
            if (!line.appendAscii(message, from, at) || !appendArgument(args[next++], line)) {
                return false;
            }
            from = at + 2;
        }
    }

    private static boolean appendArgument(Object arg, LineBuffer line) {
        switch (arg) {
            case null -> {
                return line.appendAscii("null");
            }
            case String s -> {
                return line.appendAscii(s);
            }
            case Long n -> line.appendDecimal(n);
            case Integer n -> line.appendDecimal(n);
            default -> {
                if (arg.getClass().isArray()) {
                    return false;
                }
                String s;
                try {
                    s = arg.toString();
                } catch (RuntimeException e) {
                    return false; // SLF4J reports a failed toString() its own way
                }
                return line.appendAscii(s == null ? "null" : s);
            }
        }
        return true;
    }

    /** The abbreviated name's bytes; looked up without a capturing lambda, which would be an object per line. */
    private byte[] loggerName(String name) {
        byte[] b = loggerNames.get(name);
        if (b == null) {
            b = abbreviator.abbreviate(name).getBytes(StandardCharsets.UTF_8);
            loggerNames.putIfAbsent(name, b);
        }
        return b;
    }

    private static boolean reset(LineBuffer line, int length) {
        line.truncate(length);
        return false;
    }
}

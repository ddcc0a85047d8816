package dev.tern.buffer;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;

/**
 * A date-time formatter's ASCII text for the current second, formatted only when the second changes and shared by
 * every thread that asks: the {@code Received:} header and the log line each need it for nearly every message, and
 * a {@code DateTimeFormatter} allocates and takes about a microsecond per call.
 *
 * <p>Threading: any thread. The text of one second is an immutable pair published through a volatile field; threads
 * racing at a second's turn may each format it, which is harmless.
 */
public final class SecondText {
    private record Text(long epochSecond, byte[] ascii) {
    }

    private final DateTimeFormatter format;
    private volatile Text last = new Text(Long.MIN_VALUE, new byte[0]);

    /** {@code format} must have a zone ({@link DateTimeFormatter#withZone}) and show nothing finer than seconds. */
    public SecondText(DateTimeFormatter format) {
        if (format.getZone() == null) {
            throw new IllegalArgumentException("the formatter needs a zone: " + format);
        }
        this.format = format;
    }

    /** The text of the second that holds {@code epochMillis}; the caller must not modify the array. */
    public byte[] at(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000L);
        Text t = last;
        if (t.epochSecond() != second) {
            t = new Text(second, format.format(Instant.ofEpochSecond(second)).getBytes(StandardCharsets.US_ASCII));
            last = t;
        }
        return t.ascii();
    }
}

package dev.tern.sink;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Runs an {@link SmtpSink} in the foreground for {@code tern sink}: prints where it listens, a progress line each
 * second, and a summary at the end. Stops after {@code limit}, after {@code messages} accepted messages, or when
 * the calling thread is interrupted, whichever comes first. Called by one thread; the sink is closed on return.
 */
public final class SinkRunner {
    private SinkRunner() {
    }

    /**
     * @param limit    longest run (bounded: required)
     * @param messages stop once this many messages were accepted (0: no count limit)
     * @param out      where the lines go; {@code null} for silence
     * @return the final stats
     */
    public static SinkStats run(SinkSettings settings, Duration limit, long messages, PrintStream out)
            throws IOException {
        try (SmtpSink sink = SmtpSink.start(settings)) {
            print(out, "tern sink listening on " + sink.localAddress().getHostString() + ":"
                    + sink.localAddress().getPort());
            long deadline = System.nanoTime() + limit.toNanos();
            SinkStats previous = sink.stats();
            long previousAt = System.nanoTime();
            try {
                while (System.nanoTime() < deadline && (messages <= 0 || sink.messages() < messages)) {
                    long wait = Math.min(1_000_000_000L, deadline - System.nanoTime());
                    if (messages > 0) {
                        sink.awaitMessages(messages, Duration.ofNanos(Math.max(1, wait)));
                    } else {
                        Thread.sleep(Duration.ofNanos(Math.max(1, wait)));
                    }
                    long now = System.nanoTime();
                    SinkStats stats = sink.stats();
                    print(out, SinkReport.line(stats, previous, (now - previousAt) / 1e9));
                    previous = stats;
                    previousAt = now;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            SinkStats last = sink.stats();
            print(out, SinkReport.summary(last));
            return last;
        }
    }

    private static void print(PrintStream out, String line) {
        if (out != null) {
            out.println(line);
            out.flush();
        }
    }
}

package dev.tern.bench;

import dev.tern.protocol.Replies;
import dev.tern.protocol.ReplyWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Writing the replies to one PIPELINING batch (MAIL, 3 RCPT, DATA) plus the final "queued as" reply into one output
 * buffer: Tern's pre-encoded replies against String.format + getBytes per reply.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ReplyBenchmark {
    private final ByteBuffer out = ByteBuffer.allocateDirect(4096);
    private final ReplyWriter writer = new ReplyWriter(out);
    private long queueId = 0x0193A4F2C81B0007L;

    @Setup
    public void setup() {
        writer.enhancedCodes(true);
    }

    @Benchmark
    public int tern() {
        out.clear();
        writer.write(Replies.SENDER_OK);
        writer.write(Replies.RCPT_OK);
        writer.write(Replies.RCPT_OK);
        writer.write(Replies.RCPT_OK);
        writer.write(Replies.START_DATA);
        writer.writeQueued(queueId++);
        return out.position();
    }

    @Benchmark
    public int jdkStringFormat() {
        out.clear();
        put(String.format("%d %s %s\r\n", 250, "2.1.0", "Sender ok"));
        for (int i = 0; i < 3; i++) {
            put(String.format("%d %s %s\r\n", 250, "2.1.5", "Recipient ok"));
        }
        put(String.format("%d %s\r\n", 354, "End data with <CR><LF>.<CR><LF>"));
        put(String.format("%d %s Ok: queued as %016X\r\n", 250, "2.0.0", queueId++));
        return out.position();
    }

    private void put(String s) {
        out.put(s.getBytes(StandardCharsets.US_ASCII));
    }
}

package dev.tern.bench;

import dev.tern.config.LineEndingPolicy;
import dev.tern.protocol.DataDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * DATA decoding of a 1 MiB message (one op = the whole message, terminator included), with and without dot-stuffed
 * lines. Throughput in GB/s is {@code 1048576 / (ns/op)}. Baselines: a naive per-octet state machine into a byte[]
 * and a String-based unstuffing ({@code replace}) as a simple server might do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class DataDecoderBenchmark {
    static final int SIZE = 1 << 20;

    /** "plain": no line starts with a dot; "dotted": every 4th line is dot-stuffed. */
    @Param({"plain", "dotted"})
    public String body;

    private ByteBuffer in;
    private ByteBuffer out;
    private byte[] inBytes;
    private byte[] naiveOut;
    private final DataDecoder decoder = new DataDecoder(64L << 20, 1000, LineEndingPolicy.REJECT);

    @Setup
    public void setup() {
        Random random = new Random(42);
        ByteArrayOutputStream b = new ByteArrayOutputStream(SIZE + 1024);
        int line = 0;
        while (b.size() < SIZE - 80) {
            if (body.equals("dotted") && line % 4 == 0) {
                b.write('.');
                b.write('.');
            }
            int len = 60 + random.nextInt(16);
            for (int i = 0; i < len; i++) {
                b.write('!' + random.nextInt(90));
            }
            b.write('\r');
            b.write('\n');
            line++;
        }
        while (b.size() < SIZE - 5) {
            b.write('x');
        }
        b.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes("\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
        inBytes = b.toByteArray();
        in = ByteBuffer.allocateDirect(inBytes.length);
        in.put(inBytes).flip();
        out = ByteBuffer.allocateDirect(inBytes.length + 16);
        naiveOut = new byte[inBytes.length + 16];
    }

    @Benchmark
    public int tern() {
        in.position(0);
        out.clear();
        decoder.reset();
        int status = decoder.decode(in, out);
        if (status != DataDecoder.END) {
            throw new IllegalStateException("status " + status);
        }
        return out.position();
    }

    /** Per-octet state machine over byte[] (no SWAR, no bulk copy), the shape most hand-written loops take. */
    @Benchmark
    public int jdkNaiveByteLoop() {
        byte[] src = inBytes;
        byte[] dst = naiveOut;
        int o = 0;
        int state = 0; // 0 line start, 1 mid, 2 CR, 3 dot, 4 dot CR
        for (int i = 0; i < src.length; i++) {
            byte c = src[i];
            switch (state) {
                case 0 -> {
                    if (c == '.') {
                        state = 3;
                        continue;
                    }
                    dst[o++] = c;
                    state = c == '\r' ? 2 : 1;
                }
                case 3 -> {
                    if (c == '\r') {
                        state = 4;
                        continue;
                    }
                    dst[o++] = c;
                    state = 1;
                }
                case 4 -> {
                    if (c == '\n') {
                        return o;
                    }
                    dst[o++] = '.';
                    dst[o++] = '\r';
                    dst[o++] = c;
                    state = 1;
                }
                case 2 -> {
                    dst[o++] = c;
                    state = c == '\n' ? 0 : (c == '\r' ? 2 : 1);
                }
                default -> {
                    dst[o++] = c;
                    if (c == '\r') {
                        state = 2;
                    }
                }
            }
        }
        return o;
    }

    /** Decode to String, find the terminator, unstuff with replace, encode back. */
    @Benchmark
    public int jdkStringReplace() {
        String s = new String(inBytes, StandardCharsets.ISO_8859_1);
        int end = s.indexOf("\r\n.\r\n");
        String content = s.substring(0, end + 2);
        String unstuffed = (content.startsWith(".") ? content.substring(1) : content).replace("\r\n.", "\r\n");
        return unstuffed.getBytes(StandardCharsets.ISO_8859_1).length;
    }
}

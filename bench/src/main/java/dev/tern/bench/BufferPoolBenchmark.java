package dev.tern.bench;

import dev.tern.buffer.BufferPool;
import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The session's buffer traffic: acquire a direct buffer, touch it, give it back. Tern's pooled path against the JDK
 * baseline of allocating a fresh direct buffer each time (what a pool-less server would do), single- and
 * multi-threaded. Run: {@code java -jar bench/target/benchmarks.jar BufferPool -f 1 -wi 2 -i 3 -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class BufferPoolBenchmark {
    @Param({"4096", "65536"})
    int size;

    BufferPool pool;

    @Setup
    public void setup() {
        pool = new BufferPool(size, 256, 0);
    }

    @Benchmark
    public int pooledAcquireRelease() {
        ByteBuffer b = pool.acquire();
        b.put(0, (byte) 1);
        int v = b.get(0);
        pool.release(b);
        return v;
    }

    @Benchmark
    @Threads(4)
    public int pooledAcquireReleaseContended() {
        return pooledAcquireRelease();
    }

    /** JDK baseline: a new direct buffer per use (zeroed memory, Cleaner registration, GC-driven free). */
    @Benchmark
    public int jdkAllocateDirect() {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        b.put(0, (byte) 1);
        return b.get(0);
    }
}

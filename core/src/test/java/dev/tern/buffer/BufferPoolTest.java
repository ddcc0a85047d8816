package dev.tern.buffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void acquiredBufferIsClearedDirectAndOfTheConfiguredSize() {
        BufferPool pool = new BufferPool(1024, 2, 0);
        ByteBuffer b = pool.acquire();
        b.put((byte) 1).limit(10);
        pool.release(b);
        ByteBuffer again = pool.acquire();
        assertThat(again.isDirect()).isTrue();
        assertThat(again.position()).isZero();
        assertThat(again.limit()).isEqualTo(1024);
        assertThat(again.capacity()).isEqualTo(1024);
    }

    @Test
    void exhaustedPoolWithoutOverflowAnswersNull() {
        BufferPool pool = new BufferPool(64, 1, 0);
        assertThat(pool.acquire()).isNotNull();
        assertThat(pool.acquire()).isNull();
        assertThat(pool.outstanding()).isEqualTo(1);
    }

    @Test
    void overflowIsBoundedAndReturnsItsAllowance() {
        BufferPool pool = new BufferPool(64, 1, 2);
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(pool.acquire());
        }
        assertThat(held).doesNotContainNull();
        assertThat(pool.overflowInUse()).isEqualTo(2);
        assertThat(pool.acquire()).isNull();
        held.forEach(pool::release);
        assertThat(pool.outstanding()).isZero();
        assertThat(pool.acquire()).isNotNull();
    }

    @Test
    void overflowBuffersAreKeptAndReusedNotAllocatedAgain() {
        BufferPool pool = new BufferPool(64, 1, 3);
        List<ByteBuffer> first = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            first.add(pool.acquire());
        }
        first.forEach(pool::release);
        assertThat(pool.available()).isEqualTo(4);
        List<ByteBuffer> second = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            second.add(pool.acquire());
        }
        assertThat(second).allSatisfy(b -> assertThat(first).anyMatch(f -> f == b));
        assertThat(pool.overflowInUse()).isEqualTo(3);
        assertThat(pool.acquire()).isNull();
        second.forEach(pool::release);
    }

    @Test
    void doubleReleaseIsDetected() {
        BufferPool pool = new BufferPool(64, 1, 0);
        ByteBuffer b = pool.acquire();
        pool.release(b);
        assertThatThrownBy(() -> pool.release(b)).isInstanceOf(IllegalStateException.class);
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void releasingNullIsIgnored() {
        BufferPool pool = new BufferPool(64, 1, 0);
        pool.release(null);
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void concurrentAcquireAndReleaseLeaveNothingOutstanding() throws InterruptedException {
        BufferPool pool = new BufferPool(128, 16, 16);
        try (ExecutorService ex = Executors.newFixedThreadPool(4)) {
            for (int t = 0; t < 4; t++) {
                ex.submit(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        ByteBuffer b = pool.acquire();
                        if (b != null) {
                            b.putInt(0, i);
                            pool.release(b);
                        }
                    }
                });
            }
            ex.shutdown();
            assertThat(ex.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(pool.outstanding()).isZero();
    }
}

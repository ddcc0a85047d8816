package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {
    private static final InetAddress A = InetAddress.getLoopbackAddress();

    @Test
    void totalLimitHandsOutExactlyMaxPermits() {
        ConnectionLimiter l = new ConnectionLimiter(2, 10);
        assertThat(l.tryAcquireTotal()).isTrue();
        assertThat(l.tryAcquireTotal()).isTrue();
        assertThat(l.tryAcquireTotal()).isFalse();
        l.releaseTotal();
        assertThat(l.tryAcquireTotal()).isTrue();
    }

    @Test
    void perClientLimitCountsEachAddressAndForgetsItAtZero() throws Exception {
        ConnectionLimiter l = new ConnectionLimiter(10, 2);
        InetAddress b = InetAddress.getByName("192.0.2.9");
        assertThat(l.tryAcquireClient(A)).isTrue();
        assertThat(l.tryAcquireClient(A)).isTrue();
        assertThat(l.tryAcquireClient(A)).isFalse();
        assertThat(l.tryAcquireClient(b)).isTrue();
        assertThat(l.clientCount(A)).isEqualTo(2);
        l.releaseClient(A);
        l.releaseClient(A);
        assertThat(l.clientCount(A)).isZero();
        assertThat(l.tryAcquireClient(A)).isTrue();
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

class DnsCacheTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final AtomicInteger queries = new AtomicInteger();

    private DnsCache cacheAnswering(int rcode, long ttl) {
        return new DnsCache((name, type) -> {
            queries.incrementAndGet();
            return new DnsAnswer(rcode, List.of(), ttl);
        }, clock::get);
    }

    @Test
    void servesACachedAnswerWithinItsTtl() throws IOException {
        DnsCache cache = cacheAnswering(Rcode.NOERROR, 60);
        cache.ask("example.test", Type.MX);
        clock.addAndGet(59_999);
        cache.ask("EXAMPLE.test", Type.MX);
        assertThat(queries.get()).isEqualTo(1);
    }

    @Test
    void asksAgainOnceTheTtlHasPassed() throws IOException {
        DnsCache cache = cacheAnswering(Rcode.NOERROR, 60);
        cache.ask("example.test", Type.MX);
        clock.addAndGet(60_000);
        cache.ask("example.test", Type.MX);
        assertThat(queries.get()).isEqualTo(2);
    }

    @Test
    void cachesNegativeAnswers() throws IOException {
        DnsCache cache = cacheAnswering(Rcode.NXDOMAIN, 30);
        cache.ask("nowhere.test", Type.MX);
        cache.ask("nowhere.test", Type.MX);
        assertThat(queries.get()).isEqualTo(1);
    }

    @Test
    void neverCachesATemporaryFailure() throws IOException {
        DnsCache cache = cacheAnswering(Rcode.SERVFAIL, 300);
        cache.ask("broken.test", Type.MX);
        cache.ask("broken.test", Type.MX);
        assertThat(queries.get()).isEqualTo(2);
    }

    @Test
    void keepsTypesApart() throws IOException {
        DnsCache cache = cacheAnswering(Rcode.NOERROR, 60);
        cache.ask("example.test", Type.MX);
        cache.ask("example.test", Type.A);
        assertThat(queries.get()).isEqualTo(2);
    }
}

package dev.tern.delivery;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.xbill.DNS.Rcode;

/**
 * A TTL-respecting cache in front of DNS queries: positive and negative (NXDOMAIN, no data: RFC 2308) answers are
 * kept for their TTL, capped at one day; temporary failures (SERVFAIL, timeouts) are never cached, so the next
 * attempt asks again.
 *
 * <p>Threading: any thread. Two threads missing at once both query; the last answer wins.
 */
final class DnsCache {
    static final long MAX_TTL_SECONDS = 86_400;

    /** The query this cache fronts. */
    @FunctionalInterface
    interface Query {
        DnsAnswer ask(String name, int type) throws IOException;
    }

    private record Key(String name, int type) {
    }

    private record Entry(DnsAnswer answer, long expiresAtMillis) {
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final Query query;
    private final LongSupplier clockMillis;

    DnsCache(Query query, LongSupplier clockMillis) {
        this.query = query;
        this.clockMillis = clockMillis;
    }

    DnsAnswer ask(String name, int type) throws IOException {
        Key key = new Key(name.toLowerCase(java.util.Locale.ROOT), type);
        long now = clockMillis.getAsLong();
        Entry e = entries.get(key);
        if (e != null && now < e.expiresAtMillis()) {
            return e.answer();
        }
        DnsAnswer a = query.ask(key.name(), type);
        if ((a.rcode() == Rcode.NOERROR || a.rcode() == Rcode.NXDOMAIN) && a.ttlSeconds() > 0) {
            entries.put(key, new Entry(a, now + Math.min(a.ttlSeconds(), MAX_TTL_SECONDS) * 1000));
        } else {
            entries.remove(key);
        }
        return a;
    }

    int size() {
        return entries.size();
    }
}

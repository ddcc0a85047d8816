package dev.tern.delivery;

import dev.tern.config.HostPort;
import java.io.IOException;
import java.net.IDN;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Finds the next hops of a recipient domain by DNS, as RFC 5321 section 5.1 says: MX hosts by preference with equal
 * preferences shuffled, each host's A then AAAA addresses; the domain's own addresses when it has no MX (implicit
 * MX); a null MX (RFC 7505, a single "0 .") means the domain takes no mail. Temporary DNS trouble defers, it never
 * bounces; only an authoritative "no such domain" does.
 *
 * <p>Threading: any thread (blocking: call it from a virtual thread). Answers are cached for their TTL.
 */
final class MxResolver {
    static final int MAX_HOPS = 10;

    private final Resolver resolver;
    private final DnsCache cache;
    private final int port;

    MxResolver(Optional<HostPort> dns, int port, Duration timeout, LongSupplier clockMillis) {
        this.resolver = dns.isPresent()
                ? new SimpleResolver(new InetSocketAddress(dns.get().host(), dns.get().port()))
                : new ExtendedResolver();
        resolver.setTimeout(timeout);
        this.cache = new DnsCache(this::query, clockMillis);
        this.port = port;
    }

    /** The route for {@code domain} (an address literal {@code [1.2.3.4]} goes straight to that address). */
    Route resolve(String domain) {
        if (domain.startsWith("[") && domain.endsWith("]")) {
            String literal = domain.substring(1, domain.length() - 1);
            if (literal.regionMatches(true, 0, "IPv6:", 0, 5)) {
                literal = literal.substring(5);
            }
            return new Route.Hops(List.of(new HostPort(literal, port)));
        }
        String name;
        try {
            name = IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
            Name.fromString(name + ".");
        } catch (IllegalArgumentException | TextParseException e) {
            return new Route.Unroutable(SmtpReply.local(550, "5.1.2", "bad recipient domain " + domain));
        }
        DnsAnswer mx;
        try {
            mx = cache.ask(name, Type.MX);
        } catch (IOException e) {
            return temporary("MX lookup of " + name + " failed: " + e.getMessage());
        }
        if (mx.rcode() == Rcode.NXDOMAIN) {
            return new Route.Unroutable(SmtpReply.local(550, "5.1.2", "domain " + name + " does not exist"));
        }
        if (mx.rcode() != Rcode.NOERROR) {
            return temporary("MX lookup of " + name + " answered " + Rcode.string(mx.rcode()));
        }
        List<MXRecord> mxs = new ArrayList<>();
        for (Record r : mx.records()) {
            if (r instanceof MXRecord m) {
                mxs.add(m);
            }
        }
        if (mxs.size() == 1 && mxs.getFirst().getTarget().equals(Name.root)) {
            return new Route.Unroutable(SmtpReply.local(556, "5.1.10",
                    "domain " + name + " does not accept mail (null MX, RFC 7505)"));
        }
        mxs.removeIf(m -> m.getTarget().equals(Name.root));
        List<HostPort> hops = new ArrayList<>();
        boolean trouble = false;
        if (mxs.isEmpty()) {
            trouble = addresses(name, hops);
        } else {
            for (MXRecord m : byPreference(mxs)) {
                trouble |= addresses(m.getTarget().toString(true), hops);
                if (hops.size() >= MAX_HOPS) {
                    break;
                }
            }
        }
        if (!hops.isEmpty()) {
            return new Route.Hops(hops.size() > MAX_HOPS ? hops.subList(0, MAX_HOPS) : hops);
        }
        if (trouble) {
            return temporary("no address found for the mail hosts of " + name + " (DNS trouble)");
        }
        return new Route.Unroutable(SmtpReply.local(550, "5.4.4", "no address found for the mail hosts of " + name));
    }

    /** RFC 5321 5.1: lowest preference first; hosts of equal preference in random order to spread load. */
    static List<MXRecord> byPreference(List<MXRecord> mxs) {
        List<MXRecord> shuffled = new ArrayList<>(mxs);
        Collections.shuffle(shuffled, ThreadLocalRandom.current());
        shuffled.sort(Comparator.comparingInt(MXRecord::getPriority)); // stable: keeps the shuffle within a preference
        return shuffled;
    }

    /** Adds the A then AAAA addresses of {@code host}; returns whether a lookup failed temporarily. */
    private boolean addresses(String host, List<HostPort> out) {
        boolean trouble = false;
        for (int type : new int[] {Type.A, Type.AAAA}) {
            try {
                DnsAnswer a = cache.ask(host, type);
                if (a.rcode() == Rcode.NXDOMAIN) {
                    return trouble;
                }
                if (a.rcode() != Rcode.NOERROR) {
                    trouble = true;
                    continue;
                }
                for (Record r : a.records()) {
                    String ip = r instanceof ARecord ar ? ar.getAddress().getHostAddress()
                            : r instanceof AAAARecord aaaa ? aaaa.getAddress().getHostAddress() : null;
                    if (ip != null) {
                        HostPort hp = new HostPort(ip, port);
                        if (!out.contains(hp)) {
                            out.add(hp);
                        }
                    }
                }
            } catch (IOException e) {
                trouble = true;
            }
        }
        return trouble;
    }

    private DnsAnswer query(String name, int type) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), type,
                DClass.IN));
        Message r = resolver.send(q);
        List<Record> records = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        for (Record rec : r.getSection(Section.ANSWER)) {
            if (rec.getType() == type) {
                records.add(rec);
                ttl = Math.min(ttl, rec.getTTL());
            }
        }
        if (records.isEmpty()) {
            ttl = 0;
            for (Record rec : r.getSection(Section.AUTHORITY)) {
                if (rec instanceof SOARecord soa) {
                    ttl = Math.min(soa.getMinimum(), soa.getTTL()); // RFC 2308 5: negative caching TTL
                }
            }
        }
        return new DnsAnswer(r.getRcode(), records, ttl);
    }

    private static Route temporary(String why) {
        return new Route.Unroutable(SmtpReply.local(451, "4.4.3", why));
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.HostPort;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MxResolver} against generated DNS data served by a real dnsmasq on loopback: a few dozen recipient domains
 * with random MX sets (preferences with ties, hosts with A and/or AAAA addresses, hosts reached through a CNAME,
 * hosts without any address), null MX (RFC 7505), domains with only addresses (implicit MX), and names with neither.
 * Each answer is checked against a model of RFC 5321 5.1: hosts by preference, equal preferences in random order,
 * each host's A then AAAA addresses, at most {@link MxResolver#MAX_HOPS}; the domain's own addresses when it has no
 * MX; 556 5.1.10 for a null MX; 550 when nothing has an address or the domain does not exist. A seeded random
 * loop, not jqwik, since one dnsmasq serves every case; the seed is in every failure message.
 */
class MxResolverProperties {
    private static final int DOMAINS = 36;
    private static final int PORT = 2525;

    /** One MX host of the model: preference, name, its IPv4 and IPv6 addresses (possibly none). */
    record Host(int preference, String name, List<String> v4, List<String> v6) {
        List<String> all() {
            List<String> a = new ArrayList<>(v4);
            a.addAll(v6);
            return a;
        }
    }

    /** One recipient domain of the model. */
    record Domain(String name, String kind, List<Host> hosts) {
    }

    private static long seed;
    private static Dnsmasq dns;
    private static final List<Domain> MODEL = new ArrayList<>();

    @BeforeAll
    static void serveGeneratedZones() throws Exception {
        assumeTrue(Dnsmasq.available(), "dnsmasq is installed by .ci/install-peers");
        seed = new Random().nextLong();
        Random r = new Random(seed);
        List<String> args = new ArrayList<>();
        int[] next = {1};
        for (int d = 0; d < DOMAINS; d++) {
            String name = "d" + d + ".mxp.test";
            int kind = d < 4 ? d : 4 + r.nextInt(4); // the rare kinds at least once, then mostly MX sets
            switch (kind) {
                case 0 -> { // RFC 7505 null MX: preference 0, target the root
                    args.add("--dns-rr=" + name + ",15,000000");
                    MODEL.add(new Domain(name, "null", List.of()));
                }
                case 1 -> { // no MX, the domain's own addresses (RFC 5321 5.1 implicit MX)
                    Host self = addressed(r, name, 0, next, args);
                    if (self.all().isEmpty()) {
                        String a = v4(next);
                        args.add("--host-record=" + name + "," + a);
                        self = new Host(0, name, List.of(a), List.of());
                    }
                    MODEL.add(new Domain(name, "implicit", List.of(self)));
                }
                case 2 -> { // a name that exists (a TXT record) with neither MX nor address
                    args.add("--txt-record=" + name + ",nothing here");
                    MODEL.add(new Domain(name, "nothing", List.of()));
                }
                case 3 -> MODEL.add(new Domain(name, "nxdomain", List.of())); // not served: NXDOMAIN
                default -> {
                    int count = 1 + r.nextInt(kind == 7 ? 8 : 4);
                    int[] prefs = r.nextBoolean() ? new int[] {0, 10, 10, 20} : new int[] {0, 1, 5, 10, 65535};
                    List<Host> hosts = new ArrayList<>();
                    for (int h = 0; h < count; h++) {
                        String host = "mx" + h + "." + name;
                        int pref = prefs[r.nextInt(prefs.length)];
                        args.add("--mx-host=" + name + "," + host + "," + pref);
                        hosts.add(addressed(r, host, pref, next, args));
                    }
                    MODEL.add(new Domain(name, "mx", hosts));
                }
            }
        }
        dns = Dnsmasq.start(args);
    }

    /** A host with random addresses: A only, AAAA only, both, several, none (NXDOMAIN), or behind a CNAME. */
    private static Host addressed(Random r, String host, int pref, int[] next, List<String> args) {
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        int shape = r.nextInt(7);
        String recordName = host;
        if (shape == 6) { // the name is an alias; its target holds the addresses
            recordName = "target-" + host;
            args.add("--cname=" + host + "," + recordName);
        }
        if (shape == 5) {
            return new Host(pref, host, v4, v6); // no record at all
        }
        int n4 = shape == 1 ? 0 : shape == 3 ? 2 + r.nextInt(3) : 1;
        int n6 = shape == 0 || shape == 6 ? 0 : shape == 4 ? 1 + r.nextInt(2) : 1;
        // dnsmasq takes one IPv4 and one IPv6 address per --host-record; repeat it for more
        for (int i = 0; i < Math.max(n4, n6); i++) {
            String a = i < n4 ? v4(next) : "";
            String aaaa = i < n6 ? v6(next) : "";
            if (!a.isEmpty()) {
                v4.add(a);
            }
            if (!aaaa.isEmpty()) {
                v6.add(aaaa);
            }
            args.add("--host-record=" + recordName + (a.isEmpty() ? "" : "," + a) + (aaaa.isEmpty() ? "" : "," + aaaa));
        }
        return new Host(pref, host, v4, v6);
    }

    private static String v4(int[] next) {
        int n = next[0]++;
        return "10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255);
    }

    private static String v6(int[] next) {
        return "fd00::" + Integer.toHexString(next[0]++);
    }

    @AfterAll
    static void stopDns() throws Exception {
        if (dns != null) {
            dns.close();
        }
    }

    private static MxResolver resolver() {
        return new MxResolver(Optional.of(dns.hostPort()), PORT, Duration.ofSeconds(2), System::currentTimeMillis);
    }

    private static String canonical(String ip) {
        try {
            return InetAddress.getByName(ip).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyGeneratedDomainResolvesAsRfc5321Says() {
        MxResolver resolver = resolver();
        for (Domain d : MODEL) {
            String what = "seed " + seed + ", " + d;
            boolean tie = d.kind().equals("mx") && hasResolvableTie(d);
            Set<List<String>> orders = new HashSet<>();
            for (int i = 0; i < (tie ? 24 : 1); i++) {
                orders.add(check(resolver.resolve(d.name()), d, what));
            }
            if (tie) {
                assertThat(orders).as(what + ": equal preferences come in random order").hasSizeGreaterThan(1);
            }
        }
    }

    /** Whether two hosts with addresses share the lowest preference that has any (their order must vary). */
    private static boolean hasResolvableTie(Domain d) {
        int best = d.hosts().stream().filter(h -> !h.all().isEmpty()).mapToInt(Host::preference).min().orElse(-1);
        return d.hosts().stream().filter(h -> !h.all().isEmpty() && h.preference() == best).count() >= 2;
    }

    /** Checks one answer against the model; returns the order of hosts it chose. */
    private static List<String> check(Route route, Domain d, String what) {
        switch (d.kind()) {
            case "null" -> {
                SmtpReply reply = ((Route.Unroutable) route).reply();
                assertThat(reply.code()).as(what).isEqualTo(556);
                assertThat(reply.enhanced()).as(what).isEqualTo("5.1.10");
                return List.of();
            }
            case "nxdomain" -> {
                SmtpReply reply = ((Route.Unroutable) route).reply();
                assertThat(reply.code()).as(what).isEqualTo(550);
                assertThat(reply.enhanced()).as(what).isEqualTo("5.1.2");
                return List.of();
            }
            case "nothing" -> {
                assertThat(route).as(what).isInstanceOf(Route.Unroutable.class);
                SmtpReply reply = ((Route.Unroutable) route).reply();
                assertThat(reply.code()).as(what).isEqualTo(550);
                assertThat(reply.enhanced()).as(what).isEqualTo("5.4.4");
                return List.of();
            }
            default -> {
            }
        }
        List<Host> resolvable = d.hosts().stream().filter(h -> !h.all().isEmpty()).toList();
        if (resolvable.isEmpty()) {
            assertThat(route).as(what + ": MX hosts without any address").isInstanceOf(Route.Unroutable.class);
            SmtpReply reply = ((Route.Unroutable) route).reply();
            assertThat(reply.code()).as(what).isEqualTo(550);
            assertThat(reply.enhanced()).as(what).isEqualTo("5.4.4");
            return List.of();
        }
        assertThat(route).as(what).isInstanceOf(Route.Hops.class);
        List<HostPort> hops = ((Route.Hops) route).hops();
        Map<String, Host> owner = new HashMap<>();
        for (Host h : resolvable) {
            h.all().forEach(ip -> owner.put(canonical(ip), h));
        }
        int total = resolvable.stream().mapToInt(h -> h.all().size()).sum();
        assertThat(hops).as(what + ": " + hops).hasSize(Math.min(total, MxResolver.MAX_HOPS));
        assertThat(new LinkedHashSet<>(hops)).as(what + ": no address twice").hasSameSizeAs(hops);

        // Split the hops into blocks of one host each.
        List<Host> order = new ArrayList<>();
        List<List<String>> blocks = new ArrayList<>();
        for (HostPort hp : hops) {
            assertThat(hp.port()).as(what).isEqualTo(PORT);
            Host h = owner.get(canonical(hp.host()));
            assertThat(h).as(what + ": " + hp + " belongs to no MX host of the domain").isNotNull();
            if (order.isEmpty() || order.getLast() != h) {
                assertThat(order).as(what + ": the addresses of " + h.name() + " are together").doesNotContain(h);
                order.add(h);
                blocks.add(new ArrayList<>());
            }
            blocks.getLast().add(canonical(hp.host()));
        }
        boolean truncated = total > MxResolver.MAX_HOPS;
        for (int i = 0; i < order.size(); i++) {
            Host h = order.get(i);
            List<String> block = blocks.get(i);
            // RFC 5321 5.1: lowest preference first
            if (i > 0) {
                assertThat(h.preference()).as(what + ": preference order " + order)
                        .isGreaterThanOrEqualTo(order.get(i - 1).preference());
            }
            // each host: its A addresses, then its AAAA addresses, all of them (the last block may be cut at 10)
            List<String> v4 = h.v4().stream().map(MxResolverProperties::canonical).toList();
            List<String> v6 = h.v6().stream().map(MxResolverProperties::canonical).toList();
            int k = 0;
            while (k < block.size() && v4.contains(block.get(k))) {
                k++;
            }
            assertThat(v6).as(what + ": A before AAAA for " + h.name() + ": " + block)
                    .containsAll(block.subList(k, block.size()));
            if (!(truncated && i == order.size() - 1)) {
                assertThat(block.subList(0, k)).as(what + ": every A of " + h.name())
                        .containsExactlyInAnyOrderElementsOf(v4);
                assertThat(block.subList(k, block.size())).as(what + ": every AAAA of " + h.name())
                        .containsExactlyInAnyOrderElementsOf(v6);
            }
        }
        // Nothing more preferred than the last host used is left out.
        int last = order.getLast().preference();
        for (Host h : resolvable) {
            if (h.preference() < last || !truncated) {
                assertThat(order).as(what + ": " + h.name() + " missing").contains(h);
            }
        }
        return order.stream().map(Host::name).toList();
    }
}

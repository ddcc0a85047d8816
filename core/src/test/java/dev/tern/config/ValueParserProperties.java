package dev.tern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Type;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Config value parsing (operator-supplied text): sizes and counts, durations, {@code host:port}, CIDR networks
 * ({@code mynetworks}), destination limits and route maps, through {@link ValueParser#parse} as {@link ConfigLoader}
 * uses it. What {@link ValueParser#format} writes parses back to the same value; texts agree with a model of the
 * documented forms; anything else is refused with {@link IllegalArgumentException}, the one exception
 * {@link ConfigLoader} turns into a listed problem. jqwik prints the seed of a failure.
 */
class ValueParserProperties {

    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** Parses, turning the documented refusal into null; any other exception fails the property. */
    private static Object parseOrNull(Type type, String text) {
        try {
            return ValueParser.parse(type, text);
        } catch (IllegalArgumentException refused) {
            return null;
        }
    }

    // ---------------------------------------------------------------- sizes and counts

    @Property(tries = 2000)
    void countsRoundTrip(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long value) {
        assertThat(ValueParser.parse(long.class, ValueParser.format(value))).isEqualTo(value);
        if (value <= Integer.MAX_VALUE) {
            assertThat(ValueParser.parse(int.class, ValueParser.format((int) value))).isEqualTo((int) value);
        } else {
            assertThatThrownBy(() -> ValueParser.parse(int.class, Long.toString(value)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Provide
    Arbitrary<String> sizeTexts() {
        Arbitrary<String> digits = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(0, 1 << 20).map(String::valueOf)),
                Tuple.of(1, Arbitraries.strings().withChars("0123456789").ofMinLength(1).ofMaxLength(21)),
                Tuple.of(1, Arbitraries.of("", "-1", "-0", "1_000", "1.5", "0x10", " 12 ", "1 k")));
        Arbitrary<String> suffix = Arbitraries.of("", "", "k", "m", "g", "K", "M", "G", "kb", "KiB", "mb", "MiB", "gib",
                "b", "B", "ib", "iB", " b", "t", "kk", "x");
        return Combinators.combine(digits, suffix).as((d, s) -> d + s);
    }

    /** Sizes: a decimal count with an optional binary suffix k, m, g (also written kb/kib) or b, never negative. */
    @Property(tries = 3000)
    void sizesAgreeWithTheModel(@ForAll("sizeTexts") String text) {
        Object got = parseOrNull(long.class, text);
        assertThat(got).as("'%s'", text).isEqualTo(sizeModel(text));
    }

    private static Long sizeModel(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        // The count is read as Long.parseLong reads it (an optional sign); a negative count is refused.
        var m = Pattern.compile("([+-]?\\d+) *(?:([kmg])(?:i?b)?|b)?").matcher(s);
        if (!m.matches()) {
            return null;
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            default -> 30;
        };
        BigInteger v = new BigInteger(m.group(1)).shiftLeft(shift);
        return v.signum() < 0 || v.compareTo(LONG_MAX) > 0 ? null : v.longValue();
    }

    // ---------------------------------------------------------------- durations

    @Property(tries = 2000)
    void durationsRoundTrip(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 1_000_000) long millis,
                            @ForAll @IntRange(max = 4) int unit) {
        // Whole days, hours, minutes and seconds as well as odd milliseconds, so every format branch is taken.
        long[] units = {1, 1000, 60_000, 3_600_000, 86_400_000};
        Duration d = Duration.ofMillis(millis / units[unit] * units[unit]);
        String text = ValueParser.format(d);
        assertThat(ValueParser.parse(Duration.class, text)).as(text).isEqualTo(d);
    }

    @Provide
    Arbitrary<String> durationTexts() {
        Arbitrary<String> number = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.longs().between(0, 100_000).map(String::valueOf)),
                Tuple.of(2, Arbitraries.strings().withChars("0123456789").ofMinLength(1).ofMaxLength(20)),
                Tuple.of(1, Arbitraries.of("", "-5", "+5", "1.5", " ")));
        return Combinators.combine(number, Arbitraries.of("ms", "s", "m", "h", "d", "MS", "S", "H", "", "x", "w"))
                .as((n, u) -> n + u);
    }

    /** Durations: a decimal count and one of ms, s, m, h, d; one too large for a long of nanoseconds is refused. */
    @Property(tries = 3000)
    void durationsAgreeWithTheModelAndAreRefusedOnlyWithIllegalArgument(@ForAll("durationTexts") String text) {
        assertThat(parseOrNull(Duration.class, text)).as("'%s'", text).isEqualTo(durationModel(text));
    }

    /** The same bug seen from the loader: every bad value should become a listed problem, a {@link ConfigException}. */
    @Property(tries = 300)
    void configLoaderReportsEveryBadDurationAsAProblem(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long n,
                                                       @ForAll("durationUnits") String unit) {
        Duration expected = durationModel(n + unit);
        try {
            RelayConfig c = ConfigLoader.load(null, Map.of("max-queue-lifetime", n + unit));
            assertThat(c.delivery().maxLifetime()).isEqualTo(expected);
        } catch (ConfigException listed) {
            assertThat(expected).as("refused only when too large for a long of nanoseconds").isNull();
            assertThat(String.join("\n", listed.problems())).contains("max-queue-lifetime");
        }
    }

    @Provide
    Arbitrary<String> durationUnits() {
        return Arbitraries.of("ms", "s", "m", "h", "d");
    }

    private static Duration durationModel(String text) {
        var m = Pattern.compile("([+-]?\\d+)(ms|s|m|h|d)").matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        BigInteger n = new BigInteger(m.group(1));
        BigInteger seconds = switch (m.group(2)) {
            case "ms" -> null;
            case "s" -> n;
            case "m" -> n.multiply(BigInteger.valueOf(60));
            case "h" -> n.multiply(BigInteger.valueOf(3600));
            default -> n.multiply(BigInteger.valueOf(86_400));
        };
        BigInteger value = seconds == null ? n : seconds;
        // At most a long of nanoseconds (about 292 years), so that every later toNanos() works.
        BigInteger nanos = value.multiply(BigInteger.valueOf(seconds == null ? 1_000_000 : 1_000_000_000));
        if (nanos.bitLength() >= 64) {
            return null;
        }
        return seconds == null ? Duration.ofMillis(value.longValue()) : Duration.ofSeconds(value.longValue());
    }

    // ---------------------------------------------------------------- host:port

    @Provide
    Arbitrary<String> hosts() {
        Arbitrary<String> name = Arbitraries.strings().withChars("abcxyz0189-").ofMinLength(1).ofMaxLength(10)
                .list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        Arbitrary<String> v4 = Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(l -> String.join(".", l.stream().map(String::valueOf).toList()));
        Arbitrary<String> v6 = Arbitraries.integers().between(0, 0xFFFF).list().ofSize(8).map(l -> {
            try {
                byte[] b = new byte[16];
                for (int i = 0; i < 8; i++) {
                    b[2 * i] = (byte) (l.get(i) >> 8);
                    b[2 * i + 1] = (byte) (int) l.get(i);
                }
                return InetAddress.getByAddress(b).getHostAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        });
        return Arbitraries.oneOf(name, v4, v6, Arbitraries.of("::1", "::", "localhost"));
    }

    @Property(tries = 2000)
    void hostPortRoundTrips(@ForAll("hosts") String host, @ForAll @IntRange(max = 65535) int port) {
        HostPort hp = new HostPort(host, port);
        assertThat(ValueParser.parse(HostPort.class, hp.toString())).isEqualTo(hp);
        assertThat(ValueParser.parse(HostPort.class, " " + hp + " ")).isEqualTo(hp);
    }

    @Provide
    Arbitrary<String> hostileHostPorts() {
        return Arbitraries.strings().withChars("ab1:[]. -+9%").ofMaxLength(14);
    }

    /** Anything: a HostPort with a non-blank host and a port in range, or IllegalArgumentException. */
    @Property(tries = 3000)
    void hostPortTextsParseOrAreRefusedWithIllegalArgument(@ForAll("hostileHostPorts") String text) {
        assertThat(parseOrNull(HostPort.class, text)).as("'%s'", text).isEqualTo(hostPortModel(text));
    }

    /** HOST:PORT split at the last colon, HOST optionally in brackets, PORT a decimal 0-65535, HOST not blank. */
    private static HostPort hostPortModel(String text) {
        String t = text.trim();
        var m = Pattern.compile("(.*):([+-]?[0-9]+)").matcher(t);
        if (!m.matches()) {
            return null;
        }
        String host = m.group(1);
        if (host.startsWith("[") && host.endsWith("]") && host.length() >= 2) {
            host = host.substring(1, host.length() - 1);
        }
        BigInteger port = new BigInteger(m.group(2));
        if (host.isBlank() || port.signum() < 0 || port.compareTo(BigInteger.valueOf(65535)) > 0) {
            return null;
        }
        return new HostPort(host, port.intValue());
    }

    // ---------------------------------------------------------------- CIDR (mynetworks)

    /** RFC 4291 2.2 text of 16 random octets, compressed or not, with an IPv4 tail sometimes. */
    @Provide
    Arbitrary<String> cidrTexts() {
        Arbitrary<String> v4 = Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(l -> String.join(".", l.stream().map(String::valueOf).toList()));
        Arbitrary<Integer> group = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0)),
                Tuple.of(3, Arbitraries.integers().between(0, 0xFFFF)));
        Arbitrary<String> v6 = Combinators.combine(group.list().ofSize(8), Arbitraries.integers().between(0, 8),
                        Arbitraries.integers().between(0, 8), Arbitraries.of(true, false))
                .as((gs, a, b, upper) -> {
                    List<String> hex = new ArrayList<>(gs.stream().map(Integer::toHexString).toList());
                    if (upper) {
                        hex.replaceAll(h -> h.toUpperCase(Locale.ROOT));
                    }
                    int from = Math.min(a, b);
                    int to = Math.max(a, b);
                    return from == to ? String.join(":", hex)
                            : String.join(":", hex.subList(0, from)) + "::" + String.join(":", hex.subList(to, 8));
                });
        Arbitrary<String> address = Arbitraries.frequencyOf(Tuple.of(1, v4), Tuple.of(1, v6),
                Tuple.of(1, v6.map(s -> "[" + s + "]")));
        Arbitrary<String> prefix = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.integers().between(0, 128)
                        .map(p -> "/" + p)), Tuple.of(1, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.of("/", "/-1", "/129", "/x", "/ 8", "/8/8", "/+8", "/033")));
        return Combinators.combine(address, prefix).as((a, p) -> a + p);
    }

    /** What a CIDR text means by RFC 4632 / RFC 4291 2.3, or null when it is not one. */
    private record Network(byte[] bytes, int prefix) {
    }

    private static final String SNUM = "(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])";
    private static final Pattern DOTTED_QUAD = Pattern.compile(SNUM + "(?:\\." + SNUM + "){3}");

    private static Network cidrModel(String text) throws Exception {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (addr.startsWith("[") && addr.endsWith("]")) {
            addr = addr.substring(1, addr.length() - 1);
        }
        byte[] bytes;
        if (DOTTED_QUAD.matcher(addr).matches()) {
            bytes = InetAddress.getByName(addr).getAddress();
        } else if (addr.indexOf(':') >= 0 && addr.matches("[0-9a-fA-F:.]+")) {
            bytes = ipv6Model(addr);
            if (bytes == null) {
                return null;
            }
        } else {
            return null;
        }
        int max = bytes.length * 8;
        String p = slash < 0 ? String.valueOf(max) : t.substring(slash + 1);
        // The prefix is read as Integer.parseInt reads it (an optional sign, leading zeros).
        if (!p.matches("[+-]?[0-9]{1,9}") || Integer.parseInt(p) < 0 || Integer.parseInt(p) > max) {
            return null;
        }
        int prefix = Integer.parseInt(p);
        // RFC 4291 2.5.5.2: an IPv4-mapped network is the IPv4 network it maps, at 96 bits or more.
        byte[] mappedPrefix = new byte[12];
        mappedPrefix[10] = (byte) 0xFF;
        mappedPrefix[11] = (byte) 0xFF;
        if (bytes.length == 16 && Arrays.equals(Arrays.copyOf(bytes, 12), mappedPrefix)) {
            return prefix < 96 ? null : new Network(Arrays.copyOfRange(bytes, 12, 16), prefix - 96);
        }
        return new Network(bytes, prefix);
    }

    /** RFC 4291 2.2 forms 1 and 2 (the generator makes no IPv4 tails), independent of InetAddress. */
    private static byte[] ipv6Model(String a) {
        int dbl = a.indexOf("::");
        if (dbl >= 0 && a.indexOf("::", dbl + 1) >= 0) {
            return null;
        }
        List<String> left = dbl < 0 ? List.of(a.split(":", -1)) : a.substring(0, dbl).isEmpty() ? List.of()
                : List.of(a.substring(0, dbl).split(":", -1));
        List<String> right = dbl < 0 ? List.of() : a.substring(dbl + 2).isEmpty() ? List.of()
                : List.of(a.substring(dbl + 2).split(":", -1));
        int groups = left.size() + right.size();
        if (dbl < 0 ? groups != 8 : groups > 7) {
            return null;
        }
        List<String> all = new ArrayList<>(left);
        for (int i = 0; i < 8 - groups; i++) {
            all.add("0");
        }
        all.addAll(right);
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            if (!all.get(i).matches("[0-9a-fA-F]{1,4}")) {
                return null;
            }
            int v = Integer.parseInt(all.get(i), 16);
            b[2 * i] = (byte) (v >> 8);
            b[2 * i + 1] = (byte) v;
        }
        return b;
    }

    /** Literal networks parse to what the model says; bad prefixes are refused with IllegalArgumentException. */
    @Property(tries = 3000)
    void cidrTextsAgreeWithTheModel(@ForAll("cidrTexts") String text) throws Exception {
        Network expected = cidrModel(text);
        Object got = parseOrNull(Cidr.class, text);
        if (expected == null) {
            assertThat(got).as("'%s'", text).isNull();
        } else {
            assertThat(got).as("'%s'", text).isEqualTo(new Cidr(expected.bytes(), expected.prefix()));
            assertThat(ValueParser.parse(Cidr.class, got.toString())).isEqualTo(got);
        }
    }

    /** {@link Cidr#contains}: the first {@code prefix} bits agree, and addresses of the other family never match. */
    @Property(tries = 3000)
    void containsAgreesWithTheBitMaskModel(@ForAll("cidrTexts") String text, @ForAll byte[] seed,
                                           @ForAll @IntRange(max = 128) int keepBits) throws Exception {
        Network n = cidrModel(text);
        if (n == null) {
            return;
        }
        Cidr cidr = Cidr.parse(text);
        // An address sharing the network's first keepBits bits, the rest from the seed.
        int len = (seed.length % 2 == 0) == (n.bytes().length == 4) ? n.bytes().length : 20 - n.bytes().length;
        byte[] a = new byte[len];
        for (int i = 0; i < len; i++) {
            a[i] = seed.length == 0 ? 0 : seed[i % seed.length];
        }
        if (len == n.bytes().length) {
            for (int bit = 0; bit < Math.min(keepBits, len * 8); bit++) {
                int mask = 0x80 >>> (bit % 8);
                a[bit / 8] = (byte) ((a[bit / 8] & ~mask) | (n.bytes()[bit / 8] & mask));
            }
        }
        InetAddress address = InetAddress.getByAddress(a);
        byte[] actual = address.getAddress(); // an IPv4-mapped IPv6 address comes back as IPv4
        int bits = actual.length * 8;
        boolean expected = actual.length == n.bytes().length
                && new BigInteger(1, actual).shiftRight(bits - n.prefix())
                .equals(new BigInteger(1, n.bytes()).shiftRight(bits - n.prefix()));
        assertThat(cidr.contains(address)).as("%s contains %s", text, address).isEqualTo(expected);
    }

    @Provide
    Arbitrary<String> shortIpv4Forms() {
        // One to three parts, as inet_aton reads them; none needs a name lookup.
        return Combinators.combine(Arbitraries.integers().between(0, 255).list().ofMinSize(1).ofMaxSize(3),
                        Arbitraries.of("", "/8", "/16", "/24", "/32"))
                .as((parts, prefix) -> String.join(".", parts.stream().map(String::valueOf).toList()) + prefix);
    }

    /**
     * A network is a dotted quad or an IPv6 text; shorter IPv4 forms are refused, not read the inet_aton way, where
     * {@code 192.168/16} means 192.0.0.168/16 (that is, 192.0.0.0/16, not 192.168.0.0/16).
     */
    @Property(tries = 1000)
    void shortIpv4FormsAreRefused(@ForAll("shortIpv4Forms") String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).as("'%s'", text).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- destination limits, route maps

    @Property(tries = 2000)
    void limitsRoundTrip(@ForAll @IntRange(min = 1) int connections, @ForAll @IntRange(min = 1) int perConnection,
                         @ForAll @IntRange(min = 0) int perSecond, @ForAll @IntRange(min = 0) int perMinute) {
        DeliverySettings.Limits l = new DeliverySettings.Limits(connections, perConnection, perSecond, perMinute);
        assertThat(ValueParser.parse(DeliverySettings.Limits.class, l.toString())).isEqualTo(l);
        assertThat(DeliverySettings.Limits.parse(l.toString().replace(' ', ','))).isEqualTo(l);
    }

    @Provide
    Arbitrary<String> limitTexts() {
        Arbitrary<String> part = Combinators.combine(
                Arbitraries.of("connections", "per-connection", "per-second", "per-minute", "connection", ""),
                Arbitraries.of("=", "=", "==", ""),
                Arbitraries.of("0", "1", "20", "-1", "99999999999", "x", ""))
                .as((k, eq, v) -> k + eq + v);
        return Combinators.combine(part.list().ofMaxSize(5), Arbitraries.of(" ", ",", ", ", "\t"))
                .as((l, sep) -> String.join(sep, l));
    }

    /** Limits: whitespace or comma separated NAME=N, unknown names and bad numbers refused. */
    @Property(tries = 2000)
    void limitTextsAgreeWithTheModel(@ForAll("limitTexts") String text) {
        Object got = parseOrNull(DeliverySettings.Limits.class, text);
        int[] v = {20, 100, 0, 0};
        List<String> names = List.of("connections", "per-connection", "per-second", "per-minute");
        boolean ok = true;
        for (String part : text.trim().split("[\\s,]+")) {
            if (part.isEmpty()) {
                continue;
            }
            var m = Pattern.compile("([a-z-]+)=(-?[0-9]{1,10})").matcher(part);
            if (!m.matches() || !names.contains(m.group(1))
                    || new BigInteger(m.group(2)).bitLength() >= 32) {
                ok = false;
                break;
            }
            v[names.indexOf(m.group(1))] = Integer.parseInt(m.group(2));
        }
        ok &= v[0] >= 1 && v[1] >= 1 && v[2] >= 0 && v[3] >= 0;
        assertThat(got).as("'%s'", text).isEqualTo(ok ? new DeliverySettings.Limits(v[0], v[1], v[2], v[3]) : null);
    }

    @Provide
    Arbitrary<Map<String, List<HostPort>>> routeMaps() {
        Arbitrary<String> domain = Arbitraries.strings().withChars("abcxyz09-").ofMinLength(1).ofMaxLength(8)
                .list().ofMinSize(1).ofMaxSize(3).map(l -> String.join(".", l));
        Arbitrary<HostPort> hop = Combinators.combine(hosts(), Arbitraries.integers().between(1, 65535))
                .as(HostPort::new);
        return Arbitraries.maps(domain, hop.list().ofMinSize(1).ofMaxSize(3)).ofMaxSize(4);
    }

    /** Route maps ({@code route.DOMAIN = HOST:PORT,...}) written by format and read back are the same. */
    @Property(tries = 1000)
    void routeMapsRoundTrip(@ForAll("routeMaps") Map<String, List<HostPort>> routes) throws Exception {
        Type type = DeliverySettings.class.getRecordComponents()[2].getGenericType();
        assertThat(DeliverySettings.class.getRecordComponents()[2].getName()).isEqualTo("routes");
        Map<String, List<HostPort>> expected = new LinkedHashMap<>(routes);
        assertThat(ValueParser.parse(type, ValueParser.format(routes))).isEqualTo(expected);
    }
}

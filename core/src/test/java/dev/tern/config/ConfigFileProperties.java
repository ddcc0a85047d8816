package dev.tern.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The config FILE and its merge with flags, as {@link ConfigLoader} and {@code tern relay} read them; the grammar of
 * each value is {@link ValueParserProperties}' subject. The model of a file: one {@code key = value} per line, a
 * {@code #} starts a comment, blank lines and whitespace around key and value do not count, keys are read in any case
 * (the loader lower-cases them), LF or CRLF ends a line and the last line may lack one. Its meaning is that of
 * {@link ConfigLoader#set} applied line by line over the defaults, then the flags over that, each later value of a
 * setting winning. Every problem is one line of one {@link ConfigException}, which {@code tern relay} prints and
 * exits with 2, never a stack trace. What {@code --print-config} writes reads back as the same configuration.
 * jqwik prints the seed of a failure.
 */
class ConfigFileProperties {

    /** Computed once: the default host name is a DNS lookup. */
    private static final RelayConfig BASE = RelayConfig.defaults();
    private static final AtomicInteger FILES = new AtomicInteger();
    private static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("tern-config-props");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }

    // ---------------------------------------------------------------- the model

    /** One {@code key = value} line as a generator meant it: the key in its canonical (lower) case. */
    record Assign(String key, String value) {
        String line() {
            return key + " = " + value;
        }
    }

    /** The documented meaning: each assignment in order over {@code base}, by {@link ConfigLoader#set}. */
    private static RelayConfig model(RelayConfig base, List<Assign> assigns) {
        RelayConfig c = base;
        for (Assign a : assigns) {
            c = ConfigLoader.set(c, a.key().toLowerCase(Locale.ROOT), a.value());
        }
        return c;
    }

    private static Path write(String text) {
        return write(text.getBytes(StandardCharsets.UTF_8));
    }

    private static Path write(byte[] bytes) {
        Path f = dir.resolve("tern-" + FILES.incrementAndGet() + ".conf");
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    /** Loads, and fails the property on anything but a config or a {@link ConfigException}. */
    private static Outcome load(Path file, Map<String, String> flags) {
        try {
            return new Outcome(ConfigLoader.load(BASE, file, flags), List.of());
        } catch (ConfigException e) {
            assertThat(e.problems()).as("a ConfigException lists at least one problem").isNotEmpty();
            return new Outcome(null, e.problems());
        } catch (Throwable t) {
            throw new AssertionError("raw exception instead of a ConfigException", t);
        }
    }

    record Outcome(RelayConfig config, List<String> problems) {
        RelayConfig ok() {
            assertThat(problems).as("problems").isEmpty();
            return config;
        }
    }

    private static final Set<String> NAMES = Settings.ALL.stream().map(Setting::name).collect(Collectors.toSet());

    private static boolean isSettingKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        for (Setting s : Settings.ALL) {
            if (s.family() ? k.startsWith(s.name() + ".") && k.length() > s.name().length() + 1 : s.name().equals(k)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- valid values of every setting

    private static Arbitrary<String> ints(int min, int max) {
        return Arbitraries.integers().between(min, max).map(String::valueOf);
    }

    private static Arbitrary<String> sizes(long min, long max) {
        return Arbitraries.oneOf(Arbitraries.longs().between(min, max).map(String::valueOf),
                Arbitraries.longs().between((min + 1023) / 1024, max / 1024).map(k -> k + "k"));
    }

    private static Arbitrary<String> durations(long minMs) {
        Arbitrary<String> any = Combinators.combine(Arbitraries.longs().between(0, 5000),
                Arbitraries.of("ms", "s", "m", "h", "d")).as((n, u) -> n + u);
        return any.filter(t -> ConfigLoader.parseDuration(t).toMillis() >= minMs);
    }

    private static Arbitrary<String> hostPorts(int minPort) {
        return Combinators.combine(Arbitraries.of("127.0.0.1", "0.0.0.0", "[::1]", "localhost", "mx.example.net",
                "10.1.2.3", "[2001:db8::25]"), Arbitraries.integers().between(minPort, 65535))
                .as((h, p) -> h + ":" + p);
    }

    private static Arbitrary<String> domainsStable() {
        return Combinators.combine(Arbitraries.strings().withCharRange('a', 'z').numeric().ofMinLength(1)
                .ofMaxLength(10), Arbitraries.of(".example", ".example.net", ".test")).as((a, b) -> a + b);
    }

    private static Arbitrary<String> lists(Arbitrary<String> item, int min, int max) {
        return Combinators.combine(item.list().ofMinSize(min).ofMaxSize(max), Arbitraries.of(",", ", ", " ,"))
                .as((l, sep) -> String.join(sep, l));
    }

    private static Arbitrary<String> limits() {
        Arbitrary<String> c = ints(1, 100).map(v -> "connections=" + v).injectNull(0.3);
        Arbitrary<String> pc = ints(1, 1000).map(v -> "per-connection=" + v).injectNull(0.3);
        Arbitrary<String> ps = ints(0, 100).map(v -> "per-second=" + v).injectNull(0.3);
        Arbitrary<String> pm = ints(0, 1000).map(v -> "per-minute=" + v).injectNull(0.3);
        return Combinators.combine(c, pc, ps, pm, Arbitraries.of(" ", ",", ", ")).as((a, b, d, e, sep) ->
                Stream.of(a, b, d, e).filter(x -> x != null).collect(Collectors.joining(sep)));
    }

    private static Arbitrary<String> optional(Arbitrary<String> value) {
        return Arbitraries.oneOf(Arbitraries.of("", "none", "NONE"), value);
    }

    /** For every non-family setting, texts it accepts that also pass the loader's checks whatever else is set. */
    static final Map<String, Arbitrary<String>> VALID = validValues();

    private static Map<String, Arbitrary<String>> validValues() {
        Arbitrary<String> bool = Arbitraries.of("true", "false", "yes", "no", "on", "off", "TRUE", "Off");
        Map<String, Arbitrary<String>> v = new LinkedHashMap<>();
        v.put("listen", hostPorts(0));
        v.put("data-dir", Arbitraries.of("/var/spool/tern", "tern-data", "rel/dir", "/tmp/with space", "./x",
                "/srv/tern-2"));
        v.put("mynetworks", lists(Arbitraries.of("10.0.0.0/8", "192.168.1.0/24", "127.0.0.0/8", "::1/128",
                "2001:db8::/32", "172.16.0.0/12", "[::1]/128", "203.0.113.7"), 1, 4));
        v.put("hostname", domainsStable());
        v.put("max-command-line", ints(512, 100_000));
        v.put("max-message-size", sizes(1024, 50L << 20));
        v.put("max-data-line", ints(1000, 1_000_000));
        v.put("max-recipients", ints(1, 100_000));
        v.put("max-connections", ints(1, 100_000));
        v.put("max-connections-per-client", ints(1, 10_000));
        v.put("limit-mynetworks", bool);
        v.put("max-errors", ints(0, 1000));
        v.put("pregreet-delay", durations(0));
        v.put("command-timeout", durations(1));
        v.put("data-timeout", durations(1));
        v.put("bare-line-endings", Arbitraries.of("reject", "normalize", "REJECT", "Normalize"));
        v.put("body-buffer-memory", sizes(64 << 10, 1L << 34));
        v.put("postmaster-address", optional(Arbitraries.of("postmaster@example.com", "hostmaster+tern@ops.example",
                "a.b@mx-1.example.org", "ops#1@example.net", "O'Brien@Example.COM")));
        // Only as a pair of real files: TlsSettingsTest covers them set.
        v.put("delivery-starttls", bool);
        v.put("tls-cert-file", Arbitraries.of("", "none", "NONE"));
        v.put("tls-max-sessions", ints(0, 100_000));
        v.put("tls-required", Arbitraries.of("false", "no", "off")); // true needs the files: TlsSettingsTest
        v.put("tls-key-file", Arbitraries.of("", "none", "NONE"));
        v.put("durability", Arbitraries.of("sync", "os", "SYNC", "Os"));
        v.put("journal-max-batch", ints(1, 10_000));
        v.put("journal-roll-interval", Arbitraries.of("5m", "10m", "20m", "30m", "1h", "60m", "2h", "4h", "6h",
                "1d", "24h", "300s"));
        v.put("journal-max-record-bytes", sizes((51L << 20) + 1, 1L << 30));
        v.put("journal-compact-ratio", Arbitraries.bigDecimals().between(BigDecimal.ZERO, BigDecimal.ONE).ofScale(3)
                .map(BigDecimal::toPlainString));
        v.put("delivery", bool);
        v.put("smarthost", optional(hostPorts(1)));
        v.put("dns", optional(hostPorts(1)));
        v.put("retry-schedule", lists(durations(1), 1, 5));
        v.put("max-queue-lifetime", durations(1));
        v.put("delivery-helo-name", domainsStable());
        v.put("mx-port", ints(1, 65535));
        v.put("connect-timeout", durations(1));
        v.put("delivery-command-timeout", durations(1));
        v.put("connection-idle-timeout", durations(1));
        v.put("destination-limits", limits());
        v.put("backoff-after", ints(1, 100));
        v.put("backoff", durations(1));
        v.put("max-recipients-per-transaction", ints(1, 1000));
        v.put("dkim-keys", Arbitraries.oneOf(Arbitraries.just(""), lists(Combinators.combine(domainsStable(),
                Arbitraries.strings().withCharRange('a', 'z').numeric().ofMinLength(1).ofMaxLength(8),
                Arbitraries.of("rsa-sha256", "ed25519-sha256", "ED25519-SHA256"),
                Arbitraries.of("/etc/tern/dkim/a.pem", "keys/b.pem", "/k:with:colons.pem"))
                .as((d, s, a, p) -> d + ":" + s + ":" + a + ":" + p), 1, 3)));
        v.put("dkim-signed-headers", Arbitraries.oneOf(Arbitraries.just(""), lists(Arbitraries.of("from", "to",
                "subject", "date", "message-id", "x-campaign", "list-id"), 1, 6)));
        v.put("dkim-expiry", optional(durations(1000)));
        return v;
    }

    /** Settings that are not families, in {@link Settings#ALL} order. */
    private static final List<String> PLAIN = Settings.ALL.stream().filter(s -> !s.family()).map(Setting::name)
            .toList();

    @Example
    void everyPlainSettingHasAValidValueGenerator() {
        assertThat(VALID.keySet()).containsExactlyInAnyOrderElementsOf(PLAIN);
        assertThat(Settings.ALL.stream().filter(Setting::family).map(Setting::name))
                .containsExactlyInAnyOrder("route", "destination-limit");
    }

    private static Arbitrary<Assign> assignFor(String key) {
        return VALID.get(key).map(v -> new Assign(key, v));
    }

    private static Arbitrary<List<Assign>> families() {
        Arbitrary<Assign> route = Combinators.combine(domainsStable(), lists(hostPorts(1), 1, 3))
                .as((d, hops) -> new Assign("route." + d, hops));
        Arbitrary<Assign> limit = Combinators.combine(domainsStable(), limits())
                .as((d, l) -> new Assign("destination-limit." + d, l));
        return Arbitraries.oneOf(route, limit).list().ofMaxSize(3).uniqueElements(Assign::key);
    }

    /** A valid setting for a random subset of the plain settings (each once) and a few family entries, shuffled. */
    @Provide
    Arbitrary<List<Assign>> assignments() {
        return assignmentsExcept(Set.of());
    }

    private static Arbitrary<List<Assign>> assignmentsExcept(Set<String> excluded) {
        List<String> names = PLAIN.stream().filter(n -> !excluded.contains(n)).toList();
        Arbitrary<List<Assign>> plain = Arbitraries.subsetOf(names).ofMaxSize(12).flatMap(keys -> {
            if (keys.isEmpty()) {
                return Arbitraries.just(List.<Assign>of());
            }
            List<Arbitrary<Assign>> each = keys.stream().sorted().map(ConfigFileProperties::assignFor).toList();
            return Combinators.combine(each).as(l -> l);
        });
        return Combinators.combine(plain, families()).as((p, f) -> {
            List<Assign> all = new ArrayList<>(p);
            all.addAll(f);
            return all;
        }).flatMap(l -> l.isEmpty() ? Arbitraries.just(l) : Arbitraries.shuffle(l));
    }

    // ---------------------------------------------------------------- rendering a file with the syntax's freedoms

    /** A rendered file and the (1-based) line of every assignment, in order. */
    record Rendered(String text, List<Integer> lines) {
    }

    private static final String[] WS = {"", "", " ", "\t", "  ", " \t "};
    /** What must come before a comment that follows a value. */
    private static final String[] BLANKS = {" ", "\t", "  ", " \t "};
    private static final String[] COMMENTS = {"#", "# a comment", "## listen = 1.2.3.4:25", "#=", "# ünïcødé ✓",
        "#\tkey = value # more", "# max-message-size = 1"};

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    private static String keyCase(Random r, String key) {
        return switch (r.nextInt(4)) {
            case 0 -> key.toUpperCase(Locale.ROOT);
            case 1 -> {
                StringBuilder b = new StringBuilder();
                for (char c : key.toCharArray()) {
                    b.append(r.nextBoolean() ? Character.toUpperCase(c) : c);
                }
                yield b.toString();
            }
            default -> key;
        };
    }

    /**
     * Renders {@code lines} (raw lines, each an assignment or not) with blank and comment lines between them, LF or
     * CRLF (or both mixed), with or without a final line end. {@code decorate} is applied to each raw line.
     */
    private static Rendered render(Random r, List<String> lines, boolean decorate) {
        String[] ends = switch (r.nextInt(3)) {
            case 0 -> new String[] {"\n"};
            case 1 -> new String[] {"\r\n"};
            default -> new String[] {"\n", "\r\n"};
        };
        StringBuilder b = new StringBuilder();
        List<Integer> at = new ArrayList<>();
        int lineNo = 0;
        for (String raw : lines) {
            while (decorate && r.nextInt(3) == 0) {
                b.append(r.nextBoolean() ? pick(r, WS) : pick(r, WS) + pick(r, COMMENTS)).append(pick(r, ends));
                lineNo++;
            }
            b.append(decorate ? decorateLine(r, raw) : raw);
            at.add(++lineNo);
            b.append(pick(r, ends));
        }
        if (decorate && r.nextBoolean()) {
            b.append(pick(r, COMMENTS)).append(pick(r, ends));
        }
        if (r.nextBoolean() && !b.isEmpty()) {
            b.setLength(b.length() - (b.charAt(b.length() - 1) == '\n' && b.length() > 1
                    && b.charAt(b.length() - 2) == '\r' ? 2 : 1));
        }
        return new Rendered(b.toString(), at);
    }

    /** A {@code key = value} line with other whitespace, key case and an optional trailing comment. */
    private static String decorateLine(Random r, String line) {
        int eq = line.indexOf('=');
        if (eq < 0) {
            return line;
        }
        String key = line.substring(0, eq).trim();
        String value = line.substring(eq + 1).trim();
        return pick(r, WS) + keyCase(r, key) + pick(r, WS) + "=" + pick(r, WS) + value + pick(r, WS)
                + (r.nextInt(3) == 0 ? pick(r, BLANKS) + pick(r, COMMENTS) : "");
    }

    private static List<String> linesOf(List<Assign> assigns) {
        return assigns.stream().map(Assign::line).toList();
    }

    // ---------------------------------------------------------------- syntax

    /**
     * Comments (whole-line and trailing), blank and whitespace-only lines, spaces and tabs around key, '=' and value,
     * keys in any case, LF, CRLF or both, with or without a final line end: the same configuration as the model.
     */
    @Property(tries = 100)
    void syntaxFreedomsDoNotChangeTheConfig(@ForAll("assignments") List<Assign> assigns, @ForAll Random r) {
        Rendered file = render(r, linesOf(assigns), true);
        assertThat(load(write(file.text()), Map.of()).ok()).as("%s", file.text()).isEqualTo(model(BASE, assigns));
    }

    /** A UTF-8 byte order mark (as Windows editors write) is not part of the first key. */
    @Property(tries = 100)
    void aByteOrderMarkIsIgnored(@ForAll("assignments") List<Assign> assigns, @ForAll Random r) {
        Rendered file = render(r, linesOf(assigns), false);
        assertThat(load(write("\uFEFF" + file.text()), Map.of()).ok()).isEqualTo(model(BASE, assigns));
    }

    /** A repeated key: the last value wins (as a flag wins over the file), and no problem is reported. */
    @Property(tries = 80)
    void repeatedKeyLastOneWins(@ForAll("repeated") Repeat rep, @ForAll Random r) {
        List<String> lines = new ArrayList<>();
        List<Assign> others = new ArrayList<>(rep.others());
        for (String v : rep.values()) {
            lines.add(rep.key() + " = " + v);
            if (!others.isEmpty()) {
                lines.add(others.removeFirst().line());
            }
        }
        linesOf(others).forEach(lines::add);
        List<Assign> expected = new ArrayList<>(rep.others());
        expected.add(new Assign(rep.key(), rep.values().getLast()));
        Rendered file = render(r, lines, false);
        assertThat(load(write(file.text()), Map.of()).ok()).as("%s", file.text()).isEqualTo(model(BASE, expected));
    }

    /** Keys are read in any case, so a repeat in another case is the same key: the last value still wins. */
    @Property(tries = 200)
    void repeatedKeyInAnotherCaseLastOneWins(@ForAll("repeated") Repeat rep, @ForAll Random r) {
        List<String> lines = new ArrayList<>();
        for (String v : rep.values()) {
            lines.add(keyCase(r, rep.key()) + " = " + v);
        }
        Rendered file = render(r, lines, false);
        assertThat(load(write(file.text()), Map.of()).ok()).as("%s", file.text())
                .isEqualTo(model(BASE, List.of(new Assign(rep.key(), rep.values().getLast()))));
    }

    record Repeat(String key, List<String> values, List<Assign> others) {
    }

    @Provide
    Arbitrary<Repeat> repeated() {
        return Arbitraries.of(PLAIN).flatMap(key -> Combinators.combine(
                VALID.get(key).list().ofMinSize(2).ofMaxSize(4), assignmentsExcept(Set.of(key)))
                .as((values, others) -> new Repeat(key, values,
                        others.stream().filter(a -> !a.key().contains(".")).toList())));
    }

    /** Lines far longer than any buffer (a 200k comment, a value listing thousands of networks) read like others. */
    @Property(tries = 10)
    void veryLongLinesAreRead(@ForAll @IntRange(min = 1000, max = 4000) int networks, @ForAll Random r) {
        String nets = java.util.stream.IntStream.range(0, networks)
                .mapToObj(i -> "10." + (i >> 8 & 255) + "." + (i & 255) + ".0/24").collect(Collectors.joining(","));
        String headers = java.util.stream.IntStream.range(0, networks).mapToObj(i -> "x-h" + i)
                .collect(Collectors.joining(", "));
        List<Assign> assigns = List.of(new Assign("mynetworks", nets), new Assign("dkim-signed-headers", headers));
        String comment = "#" + "long comment = with # and = ".repeat(200_000 / 28);
        String text = comment + "\n" + render(r, linesOf(assigns), true).text();
        RelayConfig c = load(write(text), Map.of()).ok();
        assertThat(c).isEqualTo(model(BASE, assigns));
        assertThat(c.mynetworks()).hasSize(networks);
    }

    /**
     * An empty value unsets an optional setting, empties a list or means the default; where none of that makes
     * sense it is a problem naming the key.
     */
    @Property(tries = 100)
    void emptyValueUnsetsOrIsAProblemNamingTheKey(@ForAll("plainNames") String key, @ForAll Random r) {
        Path f = write(render(r, List.of(key + " ="), true).text());
        Outcome o = load(f, Map.of());
        if (o.config() == null) {
            assertThat(o.problems()).singleElement().asString().contains(key);
        } else {
            Object v = RecordPaths.get(o.config(), setting(key).path());
            if (!ValueParser.format(v).isEmpty()) {
                assertThat(v).as("'%s =' gives the default", key).isEqualTo(RecordPaths.get(BASE, setting(key).path()));
            }
        }
    }

    @Provide
    Arbitrary<String> plainNames() {
        return Arbitraries.of(PLAIN);
    }

    private static Setting setting(String name) {
        return Settings.ALL.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** postmaster-address must be a mailbox Tern could put in RCPT TO: a local part, '@', a domain name. */
    @Example
    void postmasterAddressMustBeAMailbox() {
        for (String bad : List.of("postmaster", "@example.com", "pm@", "pm@localhost", "p m@example.com",
                "<pm@example.com>", "pm@example..com", "pm@-x.example", ".pm@example.com", "pm@exa_mple.com",
                "pm@exämple.com", "x".repeat(250) + "@example.com")) {
            assertThat(load(write("postmaster-address = " + bad + "\n"), Map.of()).problems()).as(bad)
                    .singleElement().asString().contains("postmaster-address");
        }
        assertThat(load(write("postmaster-address = PostMaster@Example.com\n"), Map.of()).ok().smtp().postmaster())
                .contains("PostMaster@Example.com");
        assertThat(load(write("postmaster-address = none\n"), Map.of()).ok().smtp().postmaster()).isEmpty();
    }

    /** A '#' starts a comment only first on a line or after a blank; inside a value it is the value's. */
    @Example
    void hashInsideAValueIsKeptAndAfterABlankStartsAComment() {
        assertThat(load(write("data-dir = /srv/tern#2\n"), Map.of()).ok().dataDir()).isEqualTo(Path.of("/srv/tern#2"));
        assertThat(load(write("data-dir = /srv/tern#2 # the spool\n"), Map.of()).ok().dataDir())
                .isEqualTo(Path.of("/srv/tern#2"));
        assertThat(load(write("data-dir = /srv/tern\t#2\n#data-dir = /x\n  # data-dir = /y\n"), Map.of()).ok()
                .dataDir()).isEqualTo(Path.of("/srv/tern"));
        Outcome glued = load(write("max-message-size = 10m#limit\n"), Map.of());
        assertThat(glued.problems()).singleElement().asString().contains(":1:").contains("10m#limit");
    }

    /** Empty text is not a directory: 'data-dir =' would otherwise put the journal in the working directory. */
    @Example
    void emptyDataDirIsAProblem() {
        Outcome o = load(write("data-dir =\n"), Map.of());
        assertThat(o.problems()).singleElement().asString().contains("data-dir");
    }

    // ---------------------------------------------------------------- problems: all of them, with their lines

    /** Kinds of bad line: each makes exactly one problem. {@code name} is what the problem must name. */
    record Bad(String line, String name) {
    }

    private static final List<Bad> BAD_VALUES = List.of(new Bad("listen = nowhere", "listen"),
            new Bad("max-recipients = lots", "max-recipients"), new Bad("durability = maybe", "durability"),
            new Bad("command-timeout = soon", "command-timeout"),
            new Bad("mynetworks = example.com/8", "mynetworks"),
            new Bad("journal-compact-ratio = half", "journal-compact-ratio"),
            new Bad("delivery = perhaps", "delivery"), new Bad("route.example.org = no-port", "route.example.org"),
            new Bad("destination-limit.example.org = speed=9", "destination-limit.example.org"),
            new Bad("retry-schedule = 5m,,x", "retry-schedule"), new Bad("mx-port = 70000", "mx-port"),
            new Bad("dkim-keys = example.com:sel", "dkim-keys"),
            new Bad("max-message-size = 1.5m", "max-message-size"));
    private static final List<String> NO_EQUALS = List.of("just words", "listen 127.0.0.1:25", "=value", "= x = y",
            "[section]", "listen: 127.0.0.1:25");

    @Provide
    Arbitrary<String> unknownKeys() {
        Arbitrary<String> typo = Arbitraries.of(PLAIN).flatMap(n -> Arbitraries.integers().between(0, n.length() - 1)
                .map(i -> switch (i % 3) {
                    case 0 -> n.substring(0, i) + n.substring(i + 1);   // a letter dropped
                    case 1 -> n + "s";                                   // plural
                    default -> n.replace('-', '_');                      // underscores
                }));
        return Arbitraries.oneOf(typo, Arbitraries.of("config", "print-config", "route", "listen-port", "tls",
                "max_message_size", "destination-limit", "mynetwork", "relay-host", "smtpd_banner"))
                .filter(k -> !k.isEmpty() && !isSettingKey(k));
    }

    /** An unknown key is a problem that names it and points at the file. */
    @Property(tries = 100)
    void unknownKeyIsAProblemNamingIt(@ForAll("assignments") List<Assign> assigns, @ForAll("unknownKeys") String key,
                                      @ForAll Random r) {
        List<String> lines = new ArrayList<>(linesOf(assigns));
        lines.add(r.nextInt(lines.size() + 1), key + " = 1");
        Path f = write(render(r, lines, true).text());
        assertThat(load(f, Map.of()).problems()).singleElement().asString().contains(f.toString())
                .containsIgnoringCase(key).contains("unknown setting");
    }

    /** ... and says on which line it is, as syntax errors do ({@code FILE:LINE: ...}). */
    @Property(tries = 200)
    void unknownKeyIsAProblemNamingItsLine(@ForAll("assignments") List<Assign> assigns,
                                           @ForAll("unknownKeys") String key, @ForAll Random r) {
        List<String> lines = new ArrayList<>(linesOf(assigns));
        int index = r.nextInt(lines.size() + 1);
        lines.add(index, key + " = 1");
        Rendered file = render(r, lines, true);
        Path f = write(file.text());
        assertThat(load(f, Map.of()).problems()).singleElement().asString()
                .contains(f + ":" + file.lines().get(index) + ":").containsIgnoringCase(key);
    }

    record Broken(List<String> lines, List<Integer> badIndexes, List<String> names) {
    }

    /** Valid assignments with bad lines among them: bad values, unknown keys and lines without '='. */
    @Provide
    Arbitrary<Broken> broken() {
        Arbitrary<List<Bad>> bads = Arbitraries.oneOf(Arbitraries.of(BAD_VALUES),
                unknownKeys().map(k -> new Bad(k + " = 1", k)),
                Arbitraries.of(NO_EQUALS).map(l -> new Bad(l, null))).list().ofMinSize(1).ofMaxSize(6)
                .uniqueElements(b -> b.name() == null ? b.line() : b.name().toLowerCase(Locale.ROOT));
        return bads.flatMap(bl -> {
            Set<String> used = new HashSet<>();
            bl.forEach(b -> used.add(b.name() == null ? "" : b.name()));
            return Combinators.combine(assignmentsExcept(used), Arbitraries.randoms()).as((ok, r) -> {
                List<String> lines = new ArrayList<>(linesOf(ok.stream()
                        .filter(a -> !used.contains(a.key())).toList()));
                List<String> badLines = bl.stream().map(Bad::line).toList();
                List<Integer> positions = new ArrayList<>();
                for (String b : badLines) {
                    int at = r.nextInt(lines.size() + 1);
                    lines.add(at, b);
                    positions.replaceAll(p -> p >= at ? p + 1 : p);
                    positions.add(at);
                }
                return new Broken(lines, positions, bl.stream().map(Bad::name).toList());
            });
        });
    }

    /** Every bad line makes one problem, all in one ConfigException: the value's key or the line is named. */
    @Property(tries = 100)
    void everyProblemOfTheFileIsListedAtOnce(@ForAll("broken") Broken b, @ForAll Random r) {
        Rendered file = render(r, b.lines(), false);
        Path f = write(file.text());
        List<String> problems = load(f, Map.of()).problems();
        assertThat(problems).as("%s", file.text()).hasSize(b.badIndexes().size());
        for (int i = 0; i < b.badIndexes().size(); i++) {
            String name = b.names().get(i);
            int line = file.lines().get(b.badIndexes().get(i));
            assertThat(problems).as("%s", file.text()).anySatisfy(p -> assertThat(p).contains(f.toString())
                    .contains(name == null ? ":" + line + ":" : name.toLowerCase(Locale.ROOT) + ":"));
        }
    }

    /** ... and each of those problems says on which line of the file it is. */
    @Property(tries = 300)
    void everyProblemOfTheFileNamesItsLine(@ForAll("broken") Broken b, @ForAll Random r) {
        Rendered file = render(r, b.lines(), false);
        Path f = write(file.text());
        List<String> problems = load(f, Map.of()).problems();
        for (int index : b.badIndexes()) {
            int line = file.lines().get(index);
            assertThat(problems).as("%s", file.text()).anySatisfy(p -> assertThat(p).startsWith(f + ":" + line + ":"));
        }
    }

    @Provide
    Arbitrary<byte[]> garbageFiles() {
        Arbitrary<String> fragment = Arbitraries.oneOf(
                Arbitraries.of(PLAIN), Arbitraries.of("=", " = ", "#", "\n", "\r\n", "\r", "\t", " ", ",", ";", ".",
                        "route.", "destination-limit.", "\u0000", "\uFEFF", "\u2028", "é", "=\n", "none", "-1",
                        "99999999999999999999", "0", "1k", "5m", "[::1]:25", "10.0.0.0/8", ":", "|", "\\"),
                Arbitraries.oneOf(VALID.values()),
                Arbitraries.strings().ofMaxLength(8));
        Arbitrary<byte[]> text = fragment.list().ofMaxSize(40)
                .map(l -> String.join("", l).getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, text), net.jqwik.api.Tuple.of(1, bytes));
    }

    /** Whatever the file holds, the loader gives a config or a ConfigException, never another exception. */
    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void anyFileGivesAConfigOrAConfigException(@ForAll("garbageFiles") byte[] content) {
        Outcome o = load(write(content), Map.of());
        o.problems().forEach(p -> assertThat(p).isNotBlank());
    }

    /** Random keys and values as flags: a config or a ConfigException, never another exception. */
    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void anyFlagsGiveAConfigOrAConfigException(@ForAll("garbageFlags") Map<String, String> flags) {
        load(null, flags);
    }

    @Provide
    Arbitrary<Map<String, String>> garbageFlags() {
        Arbitrary<String> keys = Arbitraries.oneOf(Arbitraries.of(PLAIN), Arbitraries.of("route.", "route.x",
                "destination-limit.y", "route..", "ROUTE.A"), Arbitraries.strings().ofMaxLength(6));
        Arbitrary<String> values = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(10), Arbitraries.of("", "=",
                "none", "0", "-5", "a=b", "1;2", "[::1]:0"),
                Arbitraries.oneOf(VALID.values()));
        return Arbitraries.maps(keys, values).ofMaxSize(6);
    }

    /** Bytes that are not UTF-8: a ConfigException naming the file, not a raw exception. */
    @Property(tries = 100)
    void nonUtf8BytesAreAProblemNotACrash(@ForAll("nonUtf8") NonUtf8 n) {
        Path f = write(n.bytes());
        assertThat(load(f, Map.of()).problems()).isNotEmpty().allSatisfy(p -> assertThat(p).contains(f.toString()));
    }

    /** ... that names the line, and the file's other problems are still listed. */
    @Property(tries = 100)
    void nonUtf8BytesAreAProblemOfTheirLine(@ForAll("nonUtf8") NonUtf8 n) {
        Path f = write(n.bytes());
        List<String> problems = load(f, Map.of()).problems();
        assertThat(problems).anySatisfy(p -> assertThat(p).contains(f + ":" + n.badLine() + ":"));
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("no-such-setting"));
    }

    /** A file whose line {@code badLine} holds bytes that are not UTF-8; its last line is an unknown key. */
    record NonUtf8(byte[] bytes, int badLine) {
        @Override
        public String toString() {
            return new String(bytes, StandardCharsets.ISO_8859_1) + " (bad line " + badLine + ")";
        }
    }

    @Provide
    Arbitrary<NonUtf8> nonUtf8() {
        Arbitrary<byte[]> bad = Arbitraries.of(new byte[] {(byte) 0xff}, new byte[] {(byte) 0x80},
                new byte[] {(byte) 0xc3}, new byte[] {(byte) 0xe9}, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                new byte[] {(byte) 0xc0, (byte) 0xaf});
        Arbitrary<String> where = Arbitraries.of("comment", "value", "key");
        return Combinators.combine(assignments(), bad, where, Arbitraries.randoms()).as((assigns, b, w, r) -> {
            List<String> lines = new ArrayList<>(linesOf(assigns));
            int at = r.nextInt(lines.size() + 1);
            lines.add(at, switch (w) {
                case "comment" -> "# caf\u0001";
                case "value" -> "delivery-helo-name = caf\u0001.example";
                default -> "caf\u0001 = 1";
            });
            lines.add("no-such-setting = 1");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte x : (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)) {
                if (x == 1) {
                    out.writeBytes(b);
                } else {
                    out.write(x);
                }
            }
            return new NonUtf8(out.toByteArray(), at + 1);
        });
    }

    // ---------------------------------------------------------------- files that cannot be read

    @Example
    void missingFileIsOneProblemNamingIt() {
        Path f = dir.resolve("no-such.conf");
        assertThat(load(f, Map.of()).problems()).singleElement().asString().contains(f.toString());
    }

    /** "FILE: cannot read (FILE)" does not say why; the operator should read that the file does not exist. */
    @Example
    void missingFileProblemSaysItDoesNotExist() {
        Path f = dir.resolve("no-such.conf");
        assertThat(load(f, Map.of()).problems()).singleElement().asString()
                .containsAnyOf("no such file", "No such file", "does not exist", "not found");
    }

    @Example
    void directoryIsOneProblemNamingIt() throws IOException {
        Path d = Files.createDirectories(dir.resolve("a-directory.conf"));
        assertThat(load(d, Map.of()).problems()).singleElement().asString().contains(d.toString())
                .containsIgnoringCase("directory");
    }

    @Example
    void unreadableFileIsOneProblemNamingIt() throws IOException {
        Path f = write("listen = 127.0.0.1:2600\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
        if (Files.isReadable(f)) {
            return; // root reads anything: nothing to check here
        }
        assertThat(load(f, Map.of()).problems()).singleElement().asString().contains(f.toString())
                .containsIgnoringCase("denied");
    }

    // ---------------------------------------------------------------- round trip of --print-config

    /** What {@link ConfigLoader#describe} writes (the text of --print-config) reads back as the same config. */
    @Property(tries = 80)
    void describedConfigReadsBackTheSame(@ForAll("assignments") List<Assign> assigns) {
        RelayConfig c = model(BASE, assigns);
        Path f = write(String.join("\n", ConfigLoader.describe(c)) + "\n");
        assertThat(load(f, Map.of()).ok()).isEqualTo(c);
        assertThat(load(f, Map.of()).ok()).isEqualTo(load(write(render(new Random(assigns.hashCode()),
                linesOf(assigns), true).text()), Map.of()).ok());
    }

    /** Values may hold '#' (a directory, a selector's key file); --print-config must write them so they read back. */
    @Property(tries = 50)
    void describedConfigWithHashReadsBackTheSame(@ForAll("hashValues") Assign a) {
        RelayConfig c = model(BASE, List.of(a));
        assertThat(load(write(String.join("\n", ConfigLoader.describe(c)) + "\n"), Map.of()).ok()).isEqualTo(c);
    }

    @Provide
    Arbitrary<Assign> hashValues() {
        return Arbitraries.of(new Assign("data-dir", "/srv/tern#2"), new Assign("data-dir", "spool#a"),
                new Assign("delivery-helo-name", "mx#1.example"),
                new Assign("dkim-keys", "example.com:s1:ed25519-sha256:/etc/dkim/#1.pem"));
    }

    /** {@code tern relay --config F --print-config}: its output, as a config file, prints the same again. */
    @Property(tries = 25)
    void printConfigOutputReadsBackThroughTheCli(@ForAll("assignments") List<Assign> assigns, @ForAll Random r) {
        Path f = write(render(r, linesOf(assigns), true).text());
        Cli first = cli("relay", "--config", f.toString(), "--print-config");
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(lines(first.out())).isEqualTo(new TreeSet<>(ConfigLoader.describe(model(BASE, assigns))));
        Cli second = cli("relay", "--config", write(first.out()).toString(), "--print-config");
        assertThat(second.code()).as(second.err()).isZero();
        assertThat(lines(second.out())).isEqualTo(lines(first.out()));
    }

    // ---------------------------------------------------------------- flags over the file

    record FlagOverFile(List<Assign> file, Assign flag) {
    }

    /** A setting in the file and again as a flag (in any order among other lines), with a different value. */
    @Provide
    Arbitrary<FlagOverFile> overrides() {
        Arbitrary<Assign> plain = Arbitraries.of(PLAIN).flatMap(ConfigFileProperties::assignFor);
        Arbitrary<Assign> family = families().filter(l -> !l.isEmpty()).map(List::getFirst);
        return Arbitraries.oneOf(plain, family).flatMap(flag -> Combinators.combine(
                assignmentsExcept(Set.of(flag.key())),
                (flag.key().contains(".") ? (flag.key().startsWith("route.") ? lists(hostPorts(1), 1, 3) : limits())
                        : VALID.get(flag.key())).map(v -> new Assign(flag.key(), v)))
                .as((others, inFile) -> {
                    List<Assign> file = new ArrayList<>(others);
                    file.add(file.size() / 2, inFile);
                    return new FlagOverFile(file, flag);
                }));
    }

    /** The flag wins over the file's line for the same setting; the file's other lines stay. */
    @Property(tries = 100)
    void flagOverridesTheFile(@ForAll("overrides") FlagOverFile o, @ForAll Random r) {
        Path f = write(render(r, linesOf(o.file()), true).text());
        List<Assign> expected = new ArrayList<>(o.file());
        expected.add(o.flag());
        assertThat(load(f, Map.of(o.flag().key(), o.flag().value())).ok()).isEqualTo(model(BASE, expected));
    }

    /** The same through {@code tern relay}: {@code --KEY VALUE} (a family: {@code --route D=V}) over the file. */
    @Property(tries = 25)
    void cliFlagOverridesTheConfigFile(@ForAll("overrides") FlagOverFile o, @ForAll Random r) {
        Path f = write(render(r, linesOf(o.file()), true).text());
        String key = o.flag().key();
        int dot = key.indexOf('.');
        List<String> args = new ArrayList<>(List.of("relay", "--config", f.toString()));
        if (dot < 0) {
            args.addAll(List.of("--" + key, o.flag().value()));
        } else {
            args.addAll(List.of("--" + key.substring(0, dot), key.substring(dot + 1) + "=" + o.flag().value()));
        }
        args.add("--print-config");
        Cli run = cli(args.toArray(String[]::new));
        assertThat(run.code()).as(run.err()).isZero();
        List<Assign> expected = new ArrayList<>(o.file());
        expected.add(o.flag());
        assertThat(lines(run.out())).isEqualTo(new TreeSet<>(ConfigLoader.describe(model(BASE, expected))));
    }

    /** Every setting is a config key and a flag of {@code tern relay}, and the relay has no other setting flags. */
    @Example
    void everySettingIsBothAKeyAndAFlag() {
        CommandLine relay = Main.commandLine().getSubcommands().get("relay");
        Set<String> flags = new TreeSet<>();
        for (OptionSpec o : relay.getCommandSpec().options()) {
            flags.add(o.longestName());
        }
        Set<String> settingFlags = new TreeSet<>();
        NAMES.forEach(n -> settingFlags.add("--" + n));
        Set<String> extra = new TreeSet<>(flags);
        extra.removeAll(settingFlags);
        assertThat(flags).containsAll(settingFlags);
        assertThat(extra).containsExactlyInAnyOrder("--config", "--print-config", "--help", "--version");
        // Every key --print-config writes is a key the file reader accepts, and a flag.
        for (String line : ConfigLoader.describe(model(BASE, List.of(new Assign("route.a.example", "127.0.0.1:25"),
                new Assign("destination-limit.b.example", "connections=2"))))) {
            String key = line.substring(0, line.indexOf(" = "));
            assertThat(isSettingKey(key)).as(key).isTrue();
            String flag = "--" + (key.contains(".") ? key.substring(0, key.indexOf('.')) : key);
            assertThat(flags).as(key).contains(flag);
        }
    }

    // ---------------------------------------------------------------- the CLI's report of problems

    record Cli(int code, String out, String err) {
    }

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    private static Set<String> lines(String text) {
        return new TreeSet<>(text.lines().toList());
    }

    private static void assertCleanError(Cli run, List<String> problems) {
        assertThat(run.code()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
        List<String> errLines = run.err().lines().toList();
        assertThat(errLines).allSatisfy(l -> assertThat(l).startsWith("tern relay: "));
        for (String p : problems) {
            assertThat(errLines).contains("tern relay: " + p);
        }
    }

    /** A file with problems: exit 2, each problem on its own line of stderr, no stack trace, nothing on stdout. */
    @Property(tries = 25)
    void cliReportsEveryProblemOfTheFileAndExits2(@ForAll("broken") Broken b, @ForAll Random r) {
        Path f = write(render(r, b.lines(), true).text());
        List<String> problems = load(f, Map.of()).problems();
        assertCleanError(cli("relay", "--config", f.toString(), "--print-config"), problems);
    }

    /** Garbage as a config file: exit 0 or 2, never a stack trace. */
    @Property(tries = 40, shrinking = ShrinkingMode.BOUNDED)
    void cliNeverShowsAStackTrace(@ForAll("garbageFiles") byte[] content) {
        Path f = write(content);
        Cli run = cli("relay", "--config", f.toString(), "--print-config");
        assertThat(run.code()).as(run.err()).isIn(0, 2);
        assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Example
    void cliReportsAMissingOrDirectoryConfigFileAndExits2() throws IOException {
        Path missing = dir.resolve("missing.conf");
        assertCleanError(cli("relay", "--config", missing.toString()), load(missing, Map.of()).problems());
        Path d = Files.createDirectories(dir.resolve("dir.conf"));
        assertCleanError(cli("relay", "--config", d.toString()), load(d, Map.of()).problems());
    }

    /** A malformed family flag is one more problem: the file's problems and the other flags' are still listed. */
    @Example
    void malformedFamilyFlagIsListedWithTheFilesProblems() {
        Path f = write("listen = nowhere\n");
        Cli run = cli("relay", "--config", f.toString(), "--route", "example.com", "--max-recipients", "lots",
                "--print-config");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("listen").contains("--route").contains("--max-recipients");
    }
}

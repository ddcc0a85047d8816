package dev.tern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.journal.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreValidAndLoopbackOnly() throws ConfigException {
        RelayConfig c = ConfigLoader.load(null, Map.of());
        assertThat(c.listen().host()).isEqualTo("127.0.0.1");
        assertThat(c.journal().durability()).isEqualTo(Durability.SYNC);
        assertThat(c.mynetworks()).extracting(Cidr::toString).containsExactly("127.0.0.0/8", "0:0:0:0:0:0:0:1/128");
        assertThat(c.smtp().maxCommandLine()).isEqualTo(512);
        assertThat(c.smtp().maxRecipients()).isEqualTo(100);
    }

    @Test
    void fileKeysAreApplied() throws Exception {
        Path file = write("""
                # a comment
                listen = 0.0.0.0:2600
                data-dir = /var/spool/tern
                mynetworks = 10.0.0.0/8, 192.168.1.0/24
                max-message-size = 10m      # binary suffix
                command-timeout = 30s
                durability = os
                bare-line-endings = normalize
                smarthost = [::1]:2626
                route.example.com = 127.0.0.2:25, 127.0.0.3:25
                retry-schedule = 1s,2s,4s
                """);
        RelayConfig c = ConfigLoader.load(file, Map.of());
        assertThat(c.listen()).isEqualTo(new HostPort("0.0.0.0", 2600));
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/spool/tern"));
        assertThat(c.mynetworks()).hasSize(2);
        assertThat(c.smtp().maxMessageSize()).isEqualTo(10L << 20);
        assertThat(c.smtp().commandTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.journal().durability()).isEqualTo(Durability.OS);
        assertThat(c.smtp().bareLineEndings()).isEqualTo(LineEndingPolicy.NORMALIZE);
        assertThat(c.delivery().smarthost()).contains(new HostPort("::1", 2626));
        assertThat(c.delivery().routes()).containsEntry("example.com",
                List.of(new HostPort("127.0.0.2", 25), new HostPort("127.0.0.3", 25)));
        assertThat(c.delivery().retrySchedule())
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
    }

    @Test
    void flagsOverrideTheFile() throws Exception {
        Path file = write("listen = 127.0.0.1:2600\nmax-recipients = 50\n");
        RelayConfig c = ConfigLoader.load(file, Map.of("listen", "127.0.0.1:2700"));
        assertThat(c.listen().port()).isEqualTo(2700);
        assertThat(c.smtp().maxRecipients()).isEqualTo(50);
    }

    @Test
    void everyProblemIsReportedAtOnce() throws Exception {
        Path file = write("listen = nowhere\nno-such-key = 1\nmax-command-line = 100\njust words\n");
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("durability", "maybe");
        flags.put("command-timeout", "soon");
        assertThatThrownBy(() -> ConfigLoader.load(file, flags))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .anySatisfy(p -> assertThat(p).contains("listen").contains("HOST:PORT"))
                        .anySatisfy(p -> assertThat(p).contains("no-such-key").contains("unknown setting"))
                        .anySatisfy(p -> assertThat(p).contains(":4: expected 'key = value'"))
                        .anySatisfy(p -> assertThat(p).contains("--durability").contains("sync"))
                        .anySatisfy(p -> assertThat(p).contains("--command-timeout").contains("duration"))
                        .anySatisfy(p -> assertThat(p).contains("max-command-line").contains("512")));
    }

    @Test
    void everySettingHasAParserAndRoundTrips() throws ConfigException {
        RelayConfig defaults = RelayConfig.defaults();
        Map<String, String> all = new LinkedHashMap<>();
        for (String line : ConfigLoader.describe(defaults)) {
            int eq = line.indexOf(" = ");
            all.put(line.substring(0, eq), line.substring(eq + 3));
        }
        for (Setting s : Settings.ALL) {
            if (!s.family()) {
                assertThat(all).as("setting %s described", s.name()).containsKey(s.name());
            }
        }
        all.values().removeIf(String::isEmpty); // optional settings left unset
        assertThat(ConfigLoader.describe(ConfigLoader.load(null, all))).isEqualTo(ConfigLoader.describe(defaults));
    }

    @Test
    void everyConfigFieldHasAKeyAndAFlag() {
        java.util.Set<String> paths = new java.util.HashSet<>();
        Settings.ALL.forEach(s -> paths.add(s.path()));
        for (String leaf : leaves(RelayConfig.class, "")) {
            assertThat(paths).as("a Setting for config field %s", leaf).contains(leaf);
        }
    }

    /** Dotted paths of the record tree's leaves: values, or records that parse from one string. */
    private static List<String> leaves(Class<?> type, String prefix) {
        List<String> out = new java.util.ArrayList<>();
        for (var c : type.getRecordComponents()) {
            String path = prefix + c.getName();
            boolean parses = java.util.Arrays.stream(c.getType().getMethods())
                    .anyMatch(m -> m.getName().equals("parse") && m.getParameterCount() == 1);
            if (c.getType().isRecord() && !parses) {
                out.addAll(leaves(c.getType(), path + "."));
            } else {
                out.add(path);
            }
        }
        return out;
    }

    @Test
    void missingFileIsAProblemNotACrash() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.conf"), Map.of()))
                .isInstanceOfSatisfying(ConfigException.class,
                        e -> assertThat(e.problems()).singleElement().asString().contains("does not exist"));
    }

    @Test
    void cidrMatchesByPrefix() {
        Cidr net = Cidr.parse("192.168.4.0/22");
        assertThat(net.contains(addr("192.168.7.255"))).isTrue();
        assertThat(net.contains(addr("192.168.8.0"))).isFalse();
        assertThat(net.contains(addr("::1"))).isFalse();
        assertThat(Cidr.parse("::1/128").contains(addr("::1"))).isTrue();
        assertThatThrownBy(() -> Cidr.parse("example.com/8")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).isInstanceOf(IllegalArgumentException.class);
    }

    private static java.net.InetAddress addr(String s) {
        try {
            return java.net.InetAddress.getByName(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path write(String text) throws IOException {
        Path f = dir.resolve("tern.conf");
        Files.writeString(f, text);
        return f;
    }
}

package dev.tern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The STARTTLS certificate and key files ({@link ServerTlsContext#load}), written by the operator: keys of every
 * kind the JDK writes (RSA, EC, Ed25519, PKCS#8) in any PEM layout load, and damaged files (bytes flipped, cut,
 * garbage, blocks swapped or dropped) end only in {@link IllegalArgumentException}, whose message names the file and
 * never quotes the key.
 */
class ServerTlsContextProperties {
    private static Path dir;
    /** Certificate and key files made by openssl for each key kind: [cert, key]. */
    private static final List<Path[]> PAIRS = new ArrayList<>();

    @BeforeContainer
    static void makeCertificates() throws Exception {
        dir = Files.createTempDirectory("tern-tls-props");
        String[][] kinds = {{"-newkey", "rsa:2048"}, {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"},
            {"-newkey", "ed25519"}};
        for (int i = 0; i < kinds.length; i++) {
            Path cert = dir.resolve("c" + i + ".pem");
            Path key = dir.resolve("k" + i + ".pem");
            List<String> args = new ArrayList<>(List.of("req", "-x509"));
            args.addAll(List.of(kinds[i]));
            args.addAll(List.of("-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", key.toString(), "-out",
                    cert.toString()));
            openssl(args);
            PAIRS.add(new Path[] {cert, key});
        }
    }

    private static void openssl(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/openssl"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl failed: " + out);
        }
    }

    @AfterContainer
    static void removeFiles() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Example
    void everyKeyKindLoads() {
        for (Path[] pair : PAIRS) {
            assertThat(ServerTlsContext.load(pair[0], pair[1], 0).newEngine().getUseClientMode()).isFalse();
        }
    }

    /** An RSA key in the traditional PKCS#1 form ({@code openssl genrsa -traditional} and older tools) loads. */
    @Example
    void aTraditionalRsaKeyLoads() throws Exception {
        Path[] rsa = PAIRS.getFirst();
        Path traditional = dir.resolve("traditional.pem");
        openssl(List.of("rsa", "-in", rsa[1].toString(), "-traditional", "-out", traditional.toString()));
        assertThat(Files.readString(traditional)).contains("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(ServerTlsContext.load(rsa[0], traditional, 0).certificate().getSubjectX500Principal().getName())
                .isEqualTo("CN=localhost");
    }

    /** One file holding the certificate and then the key (as HAProxy takes them) serves as the key file. */
    @Example
    void aKeyAfterTheCertificateInOneFileLoads() throws Exception {
        for (Path[] pair : PAIRS) {
            Path both = write(Files.readString(pair[0]) + Files.readString(pair[1]));
            assertThat(ServerTlsContext.load(pair[0], both, 0).newEngine().getUseClientMode()).isFalse();
        }
    }

    /** A key written again by the JDK, in another PEM layout (line width, CRLF, text around the block), loads. */
    @Property(tries = 60)
    void keysInAnyLayoutLoad(@ForAll("layouts") Layout layout, @ForAll("pairs") int which) throws Exception {
        Path[] pair = PAIRS.get(which);
        byte[] der = Base64.getMimeDecoder().decode(body(Files.readString(pair[1])));
        Path key = write(layout.pem(der));
        assertThat(ServerTlsContext.load(pair[0], key, 0).certificate().getSubjectX500Principal().getName())
                .isEqualTo("CN=localhost");
    }

    record Layout(int width, String eol, String before, String after) {
        String pem(byte[] der) {
            String b64 = Base64.getEncoder().encodeToString(der);
            StringBuilder sb = new StringBuilder(before).append("-----BEGIN PRIVATE KEY-----").append(eol);
            int w = width == 0 ? b64.length() : width;
            for (int i = 0; i < b64.length(); i += w) {
                sb.append(b64, i, Math.min(b64.length(), i + w)).append(eol);
            }
            return sb.append("-----END PRIVATE KEY-----").append(eol).append(after).toString();
        }
    }

    @Provide
    Arbitrary<Layout> layouts() {
        return Combinators.combine(Arbitraries.of(64, 76, 0, 4, 48), Arbitraries.of("\n", "\r\n"),
                Arbitraries.of("", "Bag Attributes\n    localKeyID: 01\n", "\n\n"),
                Arbitraries.of("", "\n", "trailing note\n")).as(Layout::new);
    }

    @Provide
    Arbitrary<Integer> pairs() {
        return Arbitraries.integers().between(0, 2);
    }

    enum Damage { FLIP, CUT, GARBAGE, DROP_LINE, SWAP_FILES, OTHER_KEY, EMPTY }

    /** Any damage to either file: the certificate loads with its key, or an IllegalArgumentException says why. */
    @Property(tries = 400)
    void damagedFilesAreRefusedWithoutQuotingTheKey(@ForAll("pairs") int which, @ForAll Damage damage,
                                                    @ForAll boolean toKey, @ForAll long seed) throws Exception {
        Path[] pair = PAIRS.get(which);
        Random r = new Random(seed);
        String keyText = Files.readString(pair[1]);
        Path cert = pair[0];
        Path key = pair[1];
        switch (damage) {
            case SWAP_FILES -> {
                cert = pair[1];
                key = pair[0];
            }
            case OTHER_KEY -> key = PAIRS.get((which + 1 + r.nextInt(2)) % PAIRS.size())[1];
            default -> {
                Path target = toKey ? pair[1] : pair[0];
                Path damaged = write(damage(Files.readAllBytes(target), damage, r));
                if (toKey) {
                    key = damaged;
                } else {
                    cert = damaged;
                }
            }
        }
        try {
            ServerTlsContext.load(cert, key, 0);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            assertThat(message).as(damage.name()).isNotBlank().containsAnyOf(cert.toString(), key.toString());
            String body = body(keyText).replaceAll("\\s", "");
            String flat = message.replaceAll("\\s", "");
            for (int i = 0; i + 16 <= body.length(); i += 8) {
                assertThat(flat).as("%s: the message quotes the key", damage).doesNotContain(body.substring(i, i + 16));
            }
        }
    }

    private static byte[] damage(byte[] file, Damage d, Random r) {
        byte[] b = file.clone();
        return switch (d) {
            case FLIP -> {
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
                yield b;
            }
            case CUT -> java.util.Arrays.copyOf(b, r.nextInt(b.length));
            case GARBAGE -> {
                int at = r.nextInt(b.length);
                for (int i = at; i < Math.min(b.length, at + 1 + r.nextInt(64)); i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                yield b;
            }
            case DROP_LINE -> {
                List<String> lines = new ArrayList<>(new String(b, StandardCharsets.ISO_8859_1).lines().toList());
                lines.remove(r.nextInt(lines.size()));
                yield String.join("\n", lines).getBytes(StandardCharsets.ISO_8859_1);
            }
            case EMPTY -> new byte[0];
            default -> b;
        };
    }

    private static String body(String pem) {
        return pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
    }

    private static Path write(String text) {
        return write(text.getBytes(StandardCharsets.US_ASCII));
    }

    private static Path write(byte[] bytes) {
        try {
            return Files.write(Files.createTempFile(dir, "f", ".pem"), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

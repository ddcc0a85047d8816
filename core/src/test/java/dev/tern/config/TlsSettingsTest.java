package dev.tern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.tern.testing.TestCertificate;
import dev.tern.tls.ServerTlsContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tls-cert-file and tls-key-file: set together, read at load time, and every way they can be wrong is one clear
 * problem naming the file, never quoting a key.
 */
class TlsSettingsTest {
    @TempDir
    static Path dir;
    static TestCertificate one;
    static TestCertificate other;

    @BeforeAll
    static void certificates() throws Exception {
        assumeThat(TestCertificate.available()).as("openssl").isTrue();
        one = TestCertificate.create(dir, "one");
        other = TestCertificate.create(dir, "other");
    }

    private static List<String> problems(Map<String, String> flags) {
        try {
            ConfigLoader.load(null, flags);
            return List.of();
        } catch (ConfigException e) {
            return e.problems();
        }
    }

    @Test
    void aCertificateAndItsKeyTurnStartTlsOn() throws Exception {
        RelayConfig c = ConfigLoader.load(null, Map.of("tls-cert-file", one.certificate().toString(),
                "tls-key-file", one.privateKey().toString()));
        assertThat(c.smtp().tlsCertificate()).contains(one.certificate());
        assertThat(c.smtp().tlsKey()).contains(one.privateKey());
        assertThat(ServerTlsContext.load(one.certificate(), one.privateKey(), 0).certificate().getSubjectX500Principal()
                .getName()).isEqualTo("CN=localhost");
    }

    @Test
    void oneWithoutTheOtherIsAProblem() {
        assertThat(problems(Map.of("tls-cert-file", one.certificate().toString()))).singleElement().asString()
                .contains("tls-cert-file, tls-key-file: set both");
        assertThat(problems(Map.of("tls-key-file", one.privateKey().toString()))).singleElement().asString()
                .contains("set both");
    }

    @Test
    void tlsRequiredNeedsACertificate() throws Exception {
        assertThat(problems(Map.of("tls-required", "true"))).singleElement().asString()
                .startsWith("tls-required: needs tls-cert-file");
        assertThat(ConfigLoader.load(null, Map.of("tls-required", "yes", "tls-cert-file",
                one.certificate().toString(), "tls-key-file", one.privateKey().toString())).smtp().tlsRequired())
                .isTrue();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedAtLoad() {
        assertThat(problems(Map.of("tls-cert-file", one.certificate().toString(), "tls-key-file",
                other.privateKey().toString()))).singleElement().asString()
                .contains(other.privateKey().toString()).contains("does not belong to the certificate");
    }

    @Test
    void swappedMissingOrDamagedFilesAreOneProblemEach() throws Exception {
        String key = Files.readString(one.privateKey());
        String body = key.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        Path damagedCert = Files.writeString(dir.resolve("damaged.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n"
                + "-----END CERTIFICATE-----\n");
        Path rsaTraditional = Files.writeString(dir.resolve("traditional.key"), key.replace("PRIVATE KEY",
                "EC PRIVATE KEY"));
        List<Map<String, String>> cases = List.of(
                Map.of("tls-cert-file", one.privateKey().toString(), "tls-key-file", one.certificate().toString()),
                Map.of("tls-cert-file", dir.resolve("missing.pem").toString(), "tls-key-file",
                        one.privateKey().toString()),
                Map.of("tls-cert-file", damagedCert.toString(), "tls-key-file", one.privateKey().toString()),
                Map.of("tls-cert-file", one.certificate().toString(), "tls-key-file", rsaTraditional.toString()));
        for (Map<String, String> flags : cases) {
            assertThat(problems(flags)).as("%s", flags).singleElement().asString()
                    .startsWith("tls-cert-file, tls-key-file: ").doesNotContain(body);
        }
        assertThat(problems(cases.getLast())).singleElement().asString().contains("openssl pkcs8 -topk8");
    }

    @Test
    void theServerRefusesToStartWithBadFilesToo() {
        assertThatThrownBy(() -> ServerTlsContext.load(one.certificate(), other.privateKey(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong");
    }
}

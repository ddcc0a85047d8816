package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.DeliverySettings;
import dev.tern.config.RelayConfig;
import dev.tern.delivery.dkim.DkimAlgorithm;
import dev.tern.delivery.dkim.DkimKey;
import dev.tern.delivery.dkim.DkimSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outgoing mail is DKIM-signed before it is sent, and an independent verifier (dkimpy) accepts what arrives. */
class DkimDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Received: from client.test by tern.test; Wed, 25 Nov 2026 16:00:00 +0000\r\n"
            + "From: Alice <alice@sender.test>\r\nTo: bob@rcpt.test\r\nSubject: signed\r\n"
            + "Date: Wed, 25 Nov 2026 16:00:00 +0000\r\nMessage-ID: <1@sender.test>\r\n\r\nHello\r\n.dot line\r\n";

    @TempDir
    Path tmp;
    private TestSink sink;
    private MemoryJournal journal;
    private DeliveryEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        sink = TestSink.start();
        journal = new MemoryJournal(5);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (engine != null) {
            engine.close();
            assertThat(engine.buffersOutstanding()).as("pooled buffers leaked").isZero();
        }
        sink.close();
    }

    private static Path resource(String name) throws Exception {
        return Path.of(DkimDeliveryTest.class.getResource("/dkim/" + name).toURI());
    }

    private void start(boolean chunking) throws Exception {
        sink.chunking = chunking;
        DkimSigner signer = DkimSigner.of(DkimKey.load("sender.test", "sel", DkimAlgorithm.RSA_SHA256,
                resource("rsa2048-pkcs8.pem")));
        DeliverySettings s = DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(sink.hostPort())))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5));
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal, signer);
    }

    private int dkimpy(byte[] message) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3-dkim is installed by .ci/install-peers");
        Path file = tmp.resolve("message.eml");
        Files.write(file, message);
        Process p = new ProcessBuilder("/usr/bin/python3", resource("verify.py").toString(), file.toString(),
                "sel._domainkey.sender.test=" + resource("rsa2048.dns.txt"))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("verify.log").toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void signsWithDataAndTheSignatureVerifies() throws Exception {
        start(false);
        journal.submit("alice@sender.test", List.of("bob@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).startsWith("DKIM-Signature: ").endsWith(MESSAGE).contains("d=sender.test", "s=sel");
        assertThat(dkimpy(r.content())).as(Files.readString(tmp.resolve("verify.log"))).isZero();
    }

    @Test
    void signsWithBdatAndTheSignatureVerifies() throws Exception {
        start(true);
        journal.submit("alice@sender.test", List.of("bob@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.bdat()).isTrue();
        assertThat(new String(r.content(), StandardCharsets.UTF_8)).startsWith("DKIM-Signature: ");
        assertThat(dkimpy(r.content())).as(Files.readString(tmp.resolve("verify.log"))).isZero();
    }

    @Test
    void leavesMailOfDomainsWithoutAKeyUnsigned() throws Exception {
        start(false);
        journal.submit("x@other.test", List.of("bob@rcpt.test"), MESSAGE.replace("alice@sender.test", "x@other.test"));

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).doesNotContain("DKIM-Signature");
    }
}

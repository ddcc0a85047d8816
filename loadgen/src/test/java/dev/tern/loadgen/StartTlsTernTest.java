package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.message.QueueId;
import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import dev.tern.testing.TestCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The load generator's STARTTLS (RFC 3207) against Tern's own server in the same JVM: {@code --starttls required}
 * with {@code --tls-trust} (chain and name checked), DATA and BDAT, and against a Tern that does not offer STARTTLS.
 * What the generator reports is checked against what the server counted and stored.
 */
@Timeout(60)
class StartTlsTernTest {
    @TempDir
    static Path certDir;
    private static TestCertificate cert;

    @TempDir
    Path dir;

    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    @BeforeAll
    static void makeCertificate() throws Exception {
        assumeTrue(TestCertificate.available(), "openssl is installed by .ci/install-peers");
        cert = TestCertificate.create(certDir, "tern");
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            assertThat(server.outstandingBuffers()).as("buffers outstanding after close").isZero();
        }
    }

    private void startTern(boolean tls) throws Exception {
        server = SmtpServer.start(TestConfigs.relay(tls ? TestConfigs.smtp().withTls(cert.certificate(),
                cert.privateKey()) : TestConfigs.smtp()), journal);
    }

    private String target() {
        return "127.0.0.1:" + server.localAddress().getPort();
    }

    /** The options as on the command line, parsed by the command itself. */
    private static LoadSpec spec(String... args) {
        LoadgenCommand command = new LoadgenCommand();
        new CommandLine(command).parseArgs(args);
        return command.toSpec();
    }

    @Test
    void commandLineRunWithRequiredVerifiedTlsHasEveryMessageAcceptedOverTls() throws Exception {
        startTern(true);
        Path out = dir.resolve("report");
        Path ids = dir.resolve("ids.txt");
        int exit = new CommandLine(new LoadgenCommand()).execute("--target", target(), "-c", "3", "-n", "60",
                "--per-connection", "10", "--size", "2k", "--starttls", "required", "--tls-trust",
                cert.certificate().toString(), "--quiet", "--json", "--fail-on-error", "--out", out.toString(),
                "--ids", ids.toString());

        assertThat(exit).as("--fail-on-error: every message acknowledged, no error").isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/spec/starttls").asText()).isEqualToIgnoringCase("required");
        assertThat(report.at("/spec/tls_verified").asBoolean()).isTrue();
        assertThat(report.at("/messages/started").asLong()).isEqualTo(60);
        assertThat(report.at("/messages/acknowledged").asLong()).isEqualTo(60);
        assertThat(report.at("/messages/failed_by_error").asLong()).isZero();
        assertThat(report.get("errors").size()).as(report.get("errors").toString()).isZero();
        long connections = report.get("connections_opened").asLong();
        // Three workers share 60 tickets, 10 per connection: 6 connections, or up to 8 when the split is uneven.
        assertThat(connections).isBetween(6L, 8L);
        List<String> ciphers = new ArrayList<>();
        report.get("tls_sessions").fieldNames().forEachRemaining(ciphers::add);
        long tlsSessions = StreamSupport.stream(report.get("tls_sessions").spliterator(), false)
                .mapToLong(JsonNode::asLong).sum();
        assertThat(tlsSessions).as("every connection ran TLS").isEqualTo(connections);
        assertThat(ciphers).isNotEmpty().allSatisfy(c -> assertThat(c).startsWith("TLSv1."));

        // What Tern saw: a handshake per connection, and every message stored with ESMTPS.
        assertThat(server.stats().tlsSessions()).isEqualTo(connections);
        assertThat(server.stats().sessionsTotal()).isEqualTo(connections);
        assertThat(journal.stored()).hasSize(60).allSatisfy(m ->
                assertThat(m.bodyText()).startsWith("Received: from loadgen.tern.test ([127.0.0.1])")
                        .contains(" with ESMTPS "));
        // The queue ids the generator read in the 250 replies inside TLS are those of the stored messages.
        List<String> reported = Files.readAllLines(ids).stream().map(l -> l.split("\t")[0]).toList();
        assertThat(reported).containsExactlyInAnyOrderElementsOf(
                journal.stored().stream().map(m -> QueueId.format(m.envelope().queueId())).toList());
    }

    @Test
    void bdatWithMessagesLargerThanATlsRecordIsAcceptedOverTls() throws Exception {
        startTern(true);
        LoadReport r = LoadGenerator.run(spec("--target", target(), "-c", "2", "-n", "20", "--per-connection", "0",
                "--size", "20k-64k", "--bdat", "--starttls", "required", "--tls-trust",
                cert.certificate().toString(), "--quiet"));

        assertThat(r.errors()).isEmpty();
        assertThat(r.acknowledged()).isEqualTo(20);
        assertThat(r.connections()).isEqualTo(2);
        assertThat(r.tlsSessionCount()).isEqualTo(2);
        assertThat(r.summary(Phase.STARTTLS).count()).isEqualTo(2);
        assertThat(r.summary(Phase.BDAT_LAST).count()).as("BDAT was used").isEqualTo(20);
        assertThat(server.stats().tlsSessions()).isEqualTo(2);
        assertThat(journal.stored()).hasSize(20).allSatisfy(m -> {
            assertThat(m.bodyText()).contains(" with ESMTPS ");
            assertThat(m.body().length).isGreaterThan(20_000);
        });
    }

    @Test
    void requiredStartTlsFailsEveryConnectionToATernWithoutTls() throws Exception {
        startTern(false);
        LoadReport r = LoadGenerator.run(spec("--target", target(), "-c", "2", "-n", "6", "--size", "2k",
                "--starttls", "required", "--tls-trust", cert.certificate().toString(), "--quiet"));

        assertThat(r.acknowledged()).isZero();
        assertThat(r.errors()).isEqualTo(Map.of("starttls-not-offered", 6L));
        assertThat(r.tlsSessions()).isEmpty();
        assertThat(r.summary(Phase.STARTTLS).count()).isZero();
        assertThat(r.connections()).as("one connection per message, each given up after EHLO").isEqualTo(6);
        assertThat(journal.stored()).isEmpty();
        assertThat(server.stats().tlsSessions()).isZero();
    }
}

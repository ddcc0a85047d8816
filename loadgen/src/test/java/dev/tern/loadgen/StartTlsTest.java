package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.HostPort;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SmtpSink;
import dev.tern.testing.PrivatePostfix;
import dev.tern.testing.TestCertificate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS on the load connections (RFC 3207): against a real Postfix that offers it with a test certificate and
 * relays to a Tern sink, against a server that does not offer it, and against one that injects a reply after its
 * 220.
 */
@Timeout(60)
class StartTlsTest {
    /** What Postfix logs for each TLS session at smtpd_tls_loglevel 1. */
    private static final String TLS_LOGGED = "TLS connection established from";
    @TempDir
    static Path dir;
    private static TestCertificate certificate;
    private static SmtpSink sink;
    private static PrivatePostfix postfix;

    @BeforeAll
    static void startPostfixWithTls() throws Exception {
        assumeTrue(PrivatePostfix.available(), "postfix is installed by .ci/install-peers; the test needs root");
        assumeTrue(TestCertificate.available(), "openssl is installed by .ci/install-peers");
        certificate = TestCertificate.create(dir, "postfix");
        sink = SmtpSink.start(SinkSettings.defaults());
        postfix = PrivatePostfix.start(Map.of("sink.tern.test", sink.localAddress().getPort()), Map.of(
                "smtpd_tls_security_level", "may",
                "smtpd_tls_cert_file", certificate.certificate().toString(),
                "smtpd_tls_key_file", certificate.privateKey().toString(),
                "smtpd_tls_loglevel", "1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    private static LoadSpec.Builder atPostfix() {
        return LoadSpec.builder(new HostPort("127.0.0.1", postfix.port())).size(SizeDistribution.parse("2k"));
    }

    @Test
    void sendsThroughPostfixInTlsAfterCheckingItsCertificate() throws Exception {
        long before = sink.messages();
        long loggedBefore = logLines(TLS_LOGGED);
        LoadReport r = LoadGenerator.run(atPostfix().connections(2).messages(40).messagesPerConnection(10)
                .startTls(StartTls.REQUIRED).tlsTrust(certificate.certificate()).build());

        assertThat(r.errors()).isEmpty();
        assertThat(r.acknowledged()).isEqualTo(40);
        // Two workers share the 40 tickets, 10 per connection: 4 connections, or 5 when the split is uneven.
        long connections = r.connections();
        assertThat(connections).isBetween(4L, 5L);
        assertThat(r.tlsSessionCount()).isEqualTo(connections);
        assertThat(r.tlsSessions().keySet()).allSatisfy(k -> assertThat(k).startsWith("TLSv1."));
        assertThat(r.summary(Phase.STARTTLS).count()).isEqualTo(connections);
        assertThat(r.summary(Phase.EHLO).count()).isEqualTo(connections); // the first EHLO; STARTTLS has the second
        assertThat(r.replies(220)).isEqualTo(2 * connections); // each connection's greeting and its STARTTLS reply
        // Postfix logged the TLS sessions, and relayed every message intact to the sink.
        assertThat(awaitLog(TLS_LOGGED, loggedBefore + connections)).isEqualTo(loggedBefore + connections);
        assertThat(sink.awaitMessages(before + 40, Duration.ofSeconds(30))).isTrue();
        assertThat(sink.stats().integrityFailures()).isZero();
    }

    @Test
    void offeredUsesTlsWhenThePeerOffersIt() throws Exception {
        LoadReport r = LoadGenerator.run(atPostfix().connections(1).messages(5).startTls(StartTls.OFFERED).build());

        assertThat(r.acknowledged()).isEqualTo(5);
        assertThat(r.tlsSessionCount()).isEqualTo(1);
    }

    @Test
    void refusesACertificateItWasNotToldToTrust() throws Exception {
        TestCertificate other = TestCertificate.create(dir, "other");
        LoadReport r = LoadGenerator.run(atPostfix().connections(1).messages(3).startTls(StartTls.REQUIRED)
                .tlsTrust(other.certificate()).build());

        assertThat(r.acknowledged()).isZero();
        assertThat(r.errors()).isEqualTo(Map.of("tls-handshake", 3L));
        assertThat(r.tlsSessions()).isEmpty();
    }

    @Test
    void withoutStartTlsOnOfferOfferedStaysInPlaintextAndRequiredFails() throws Exception {
        try (SmtpSink plain = SmtpSink.start(SinkSettings.defaults())) {
            HostPort target = new HostPort("127.0.0.1", plain.localAddress().getPort());
            LoadReport offered = LoadGenerator.run(LoadSpec.builder(target).connections(2).messages(20)
                    .startTls(StartTls.OFFERED).build());
            LoadReport required = LoadGenerator.run(LoadSpec.builder(target).connections(1).messages(4)
                    .startTls(StartTls.REQUIRED).build());

            assertThat(offered.acknowledged()).isEqualTo(20);
            assertThat(offered.tlsSessions()).isEmpty();
            assertThat(offered.summary(Phase.STARTTLS).count()).isZero();
            assertThat(required.acknowledged()).isZero();
            assertThat(required.errors()).isEqualTo(Map.of("starttls-not-offered", 4L));
            assertThat(plain.stats().messages()).isEqualTo(20);
        }
    }

    @Test
    void doesNotTrustPlaintextSentAfterTheStartTlsReply() throws Exception {
        List<String> afterStartTls = new CopyOnWriteArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> injectAfterStartTls(server, afterStartTls));
            LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", server.getLocalPort()))
                    .connections(1).messages(2).startTls(StartTls.REQUIRED).build());

            assertThat(r.acknowledged()).isZero();
            assertThat(r.errors()).isEqualTo(Map.of("starttls-plaintext-after-220", 2L));
        }
        // The client hung up without starting a handshake on a connection it could no longer trust.
        assertThat(afterStartTls).hasSize(2).containsOnly("");
    }

    /**
     * A hostile server: offers STARTTLS, then answers it with its 220 and, in the same write, a reply the client
     * would read as the first one inside TLS. Records what each client sent after STARTTLS.
     */
    private static void injectAfterStartTls(ServerSocket server, List<String> afterStartTls) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5_000);
                InputStream in = s.getInputStream();
                s.getOutputStream().write(ascii("220 hostile ESMTP\r\n"));
                readLine(in); // EHLO
                s.getOutputStream().write(ascii("250-hostile\r\n250 STARTTLS\r\n"));
                readLine(in); // STARTTLS
                s.getOutputStream().write(ascii("220 go ahead\r\n250 injected\r\n"));
                afterStartTls.add(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
            } catch (IOException e) {
                // the test closed the server socket
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static long logLines(String text) throws IOException {
        return postfix.log().lines().filter(l -> l.contains(text)).count();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Lines of Postfix's log that contain {@code text}, once there are {@code count} or 10 s have passed. */
    private static long awaitLog(String text, long count) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long n;
        while ((n = logLines(text)) < count && System.nanoTime() < end) {
            Thread.sleep(50);
        }
        return n;
    }
}

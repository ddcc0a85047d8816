package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.tern.testing.TestCertificate;
import dev.tern.tls.AnyServerCertificate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS (RFC 3207) over real loopback sockets, with a JDK TLS client that trusts exactly the test certificate:
 * the upgrade, what the server forgets at it, plaintext injected after it (CVE-2011-0411), and handshakes that fail.
 */
class StartTlsServerTest {
    @TempDir
    static Path dir;
    static TestCertificate cert;
    /** 40 KB: several TLS records, read through the session's 4 KiB command buffer and then its content buffer. */
    private static final String BODY = ("y".repeat(98) + "\r\n").repeat(400);

    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    @BeforeAll
    static void makeCertificate() throws Exception {
        assumeThat(TestCertificate.available()).as("openssl").isTrue();
        cert = TestCertificate.create(dir, "tern-tls");
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            assertThat(server.outstandingBuffers()).as("buffers outstanding after close").isZero();
        }
    }

    private void start(Duration commandTimeout) throws IOException {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ZERO,
                commandTimeout, Duration.ofSeconds(30)).withTls(cert.certificate(), cert.privateKey())), journal);
    }

    @Test
    void upgradesAndAcceptsMailOverTls() throws Exception {
        start(Duration.ofSeconds(30));
        try (Client c = new Client()) {
            assertThat(c.line()).startsWith("220 ");
            c.send("EHLO me.example\r\n");
            assertThat(c.reply()).contains("250-STARTTLS");
            c.send("STARTTLS\r\n");
            assertThat(c.reply()).containsExactly("220 2.0.0 Ready to start TLS");
            c.upgrade();
            c.send("EHLO me.example\r\n");
            List<String> ehlo = c.reply();
            assertThat(ehlo).as("STARTTLS is not offered twice").noneMatch(l -> l.contains("STARTTLS"))
                    .anyMatch(l -> l.contains("PIPELINING"));
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.0");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.5");
            assertThat(c.reply()).singleElement().asString().startsWith("354");
            c.send("Subject: over tls\r\n\r\n" + BODY + ".\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.0.0 Ok: queued as");
            c.send("STARTTLS\r\n");
            assertThat(c.reply()).containsExactly("503 5.5.1 TLS already active");
            c.send("QUIT\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("221");
        }
        assertThat(journal.stored()).singleElement().satisfies(m -> {
            assertThat(m.bodyText()).contains(" with ESMTPS id ").endsWith(BODY);
        });
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
    }

    /** RFC 3207 4.2: commands sent in plaintext after STARTTLS are discarded, and the EHLO before it forgotten. */
    @Test
    void plaintextPipelinedAfterStartTlsIsDiscarded() throws Exception {
        start(Duration.ofSeconds(30));
        try (Client c = new Client()) {
            c.line();
            c.send("EHLO me.example\r\n");
            c.reply();
            c.send("STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\nRCPT TO:<victim@example.net>\r\n");
            assertThat(c.reply()).containsExactly("220 2.0.0 Ready to start TLS");
            c.upgrade();
            c.send("MAIL FROM:<a@example.org>\r\n");
            assertThat(c.reply()).as("the EHLO before TLS no longer counts")
                    .containsExactly("503 5.5.1 Send HELO or EHLO first");
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.0");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.5");
            assertThat(c.reply()).singleElement().asString().startsWith("354");
            c.send("Subject: t\r\n\r\nbody\r\n.\r\n");
            c.reply();
        }
        assertThat(journal.stored()).singleElement().satisfies(m -> {
            assertThat(m.envelope().sender()).isEqualTo("a@example.org");
            assertThat(m.envelope().recipients()).singleElement().extracting(r -> r.address())
                    .isEqualTo("b@example.net");
        });
    }

    @Test
    void startTlsNeedsEhloFirstAndIsNotOfferedWithoutACertificate() throws Exception {
        start(Duration.ofSeconds(30));
        try (Client c = new Client()) {
            c.line();
            c.send("STARTTLS\r\n");
            assertThat(c.reply()).containsExactly("503 Send HELO or EHLO first");
            c.send("EHLO me.example\r\nSTARTTLS now\r\n");
            c.reply();
            assertThat(c.reply()).singleElement().asString().startsWith("501 ");
        }
        server.close();
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal);
        try (Client c = new Client()) {
            c.line();
            c.send("EHLO me.example\r\n");
            assertThat(c.reply()).noneMatch(l -> l.contains("STARTTLS"));
            c.send("STARTTLS\r\nNOOP\r\n");
            assertThat(c.reply()).containsExactly("502 5.5.1 Command not implemented");
            c.send("NOOP\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("250");
        }
    }

    /** A client that answers 220 with garbage, or says nothing, loses its connection; the server serves on. */
    @Test
    void failedOrStalledHandshakeEndsOnlyThatSession() throws Exception {
        start(Duration.ofMillis(500));
        try (Client c = new Client()) {
            assertThat(c.startTls("me.example")).containsExactly("220 2.0.0 Ready to start TLS");
            c.send("this is not a TLS ClientHello\r\n".repeat(10));
            assertThat(c.plainIn.read()).as("connection closed").isEqualTo(-1);
        }
        try (Client c = new Client()) {
            c.startTls("me.example");
            long started = System.nanoTime();
            assertThat(c.plainIn.read()).as("connection closed after the command timeout").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
        try (Client c = new Client()) {
            assertThat(c.startTls("me.example")).containsExactly("220 2.0.0 Ready to start TLS");
            c.upgrade();
            c.send("EHLO again.example\r\n");
            assertThat(c.reply()).first().asString().startsWith("250-tern.test");
        }
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
        assertThat(server.stats().sessionsOpen()).isLessThanOrEqualTo(1);
    }

    /** With tls-max-sessions reached, STARTTLS gets 454 and the session goes on in plaintext; a freed one is reused. */
    @Test
    void startTlsBeyondTheSessionLimitGets454() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withTls(cert.certificate(), cert.privateKey())
                .withTlsMaxSessions(1)), journal);
        try (Client first = new Client()) {
            first.startTls("one.example");
            first.upgrade();
            try (Client second = new Client()) {
                second.line();
                second.send("EHLO two.example\r\nSTARTTLS\r\n");
                second.reply();
                assertThat(second.reply()).containsExactly("454 4.7.0 TLS not available due to temporary reason");
                second.send("MAIL FROM:<a@example.org>\r\n");
                assertThat(second.reply()).as("still greeted, in plaintext").singleElement().asString()
                        .startsWith("250 2.1.0");
            }
        }
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (server.stats().sessionsOpen() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        try (Client third = new Client()) {
            assertThat(third.startTls("three.example")).containsExactly("220 2.0.0 Ready to start TLS");
            third.upgrade();
        }
        assertThat(server.stats().tlsSessions()).isEqualTo(2);
    }

    /** tls-required: MAIL before STARTTLS gets 530 5.7.0 (RFC 3207 4), whoever the client; after it, mail flows. */
    @Test
    void tlsRequiredRefusesMailUntilStartTls() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withTls(cert.certificate(), cert.privateKey())
                .withTlsRequired(true)), journal);
        try (Client c = new Client()) {
            c.line();
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            assertThat(c.reply()).contains("250-STARTTLS");
            assertThat(c.reply()).containsExactly("530 5.7.0 Must issue a STARTTLS command first");
            assertThat(c.reply()).singleElement().asString().startsWith("503 ");
            assertThat(c.reply()).singleElement().asString().startsWith("503 ");
            c.send("STARTTLS\r\n");
            c.reply();
            c.upgrade();
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.0");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.1.5");
            assertThat(c.reply()).singleElement().asString().startsWith("354");
            c.send("Subject: t\r\n\r\nbody\r\n.\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("250 2.0.0");
        }
        assertThat(journal.stored()).hasSize(1);
    }

    /**
     * Random octets instead of a ClientHello (a seeded loop: 0 to 3,000 octets, some starting like a TLS record):
     * each ends only its own session, within the command timeout, and the server answers the next client.
     */
    @Test
    void randomOctetsInsteadOfAClientHelloEndOnlyThatSession() throws Exception {
        start(Duration.ofMillis(500));
        java.util.Random r = new java.util.Random(0x5eed);
        for (int i = 0; i < 25; i++) {
            byte[] junk = new byte[r.nextInt(3_000)];
            r.nextBytes(junk);
            if (junk.length > 5 && r.nextBoolean()) {
                junk[0] = 0x16; // handshake record, TLS 1.0-1.2 record version, then a random length
                junk[1] = 3;
                junk[2] = (byte) r.nextInt(4);
            }
            try (Client c = new Client()) {
                assertThat(c.startTls("me.example")).containsExactly("220 2.0.0 Ready to start TLS");
                c.plain.getOutputStream().write(junk);
                c.plain.getOutputStream().flush();
                java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
                try {
                    c.plainIn.transferTo(answer);
                } catch (java.net.SocketException e) {
                    // reset by the server: closed too
                }
                byte[] a = answer.toByteArray();
                assertThat(a.length == 0 || a[0] == 0x15)
                        .as("round %s: nothing but a TLS alert record comes back, got %s octets", i, a.length).isTrue();
            }
        }
        try (Client c = new Client()) {
            assertThat(c.startTls("me.example")).containsExactly("220 2.0.0 Ready to start TLS");
            c.upgrade();
            c.send("NOOP\r\n");
            assertThat(c.reply()).singleElement().asString().startsWith("250");
        }
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
    }

    /**
     * A renewed certificate is served without a restart: new files in place, the next check takes them, new sessions
     * get the new certificate and sessions already in TLS go on. Files that cannot be used are refused and the ones
     * in use stay.
     */
    @Test
    void renewedCertificateIsServedWithoutARestart() throws Exception {
        TestCertificate renewed = TestCertificate.create(dir, "renewed");
        Path liveCert = Files.copy(cert.certificate(), dir.resolve("live.pem"), StandardCopyOption.REPLACE_EXISTING);
        Path liveKey = Files.copy(cert.privateKey(), dir.resolve("live.key"), StandardCopyOption.REPLACE_EXISTING);
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withTls(liveCert, liveKey)), journal);
        try (Client before = new Client()) {
            before.startTls("me.example");
            before.upgrade(trustingAny());
            assertThat(before.peerCertificate()).isEqualTo(certificate(cert.certificate()));
            assertThat(server.tls().reloadIfChanged()).as("nothing changed yet").isFalse();

            Files.copy(renewed.certificate(), liveCert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.privateKey(), liveKey, StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(liveCert, FileTime.from(Instant.now().plusSeconds(5)));
            assertThat(server.tls().reloadIfChanged()).isTrue();

            try (Client after = new Client()) {
                after.startTls("me.example");
                after.upgrade(trustingAny());
                assertThat(after.peerCertificate()).isEqualTo(certificate(renewed.certificate()));
            }
            before.send("NOOP\r\n");
            assertThat(before.reply()).as("a session in TLS goes on with its certificate").singleElement()
                    .asString().startsWith("250");
        }
        Files.writeString(liveKey, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThat(server.tls().reloadIfChanged()).as("a key that cannot be used is refused").isFalse();
        assertThat(server.tls().certificate()).isEqualTo(certificate(renewed.certificate()));
    }

    /** A line-oriented SMTP client that can move onto TLS after a 220 to STARTTLS. */
    private final class Client implements AutoCloseable {
        final Socket plain;
        final InputStream plainIn;
        private Socket socket;
        private BufferedReader reader;
        private OutputStream out;

        Client() throws IOException {
            plain = new Socket(server.localAddress().getAddress(), server.localAddress().getPort());
            plain.setSoTimeout(20_000);
            plainIn = plain.getInputStream();
            socket = plain;
            reader = new BufferedReader(new InputStreamReader(plainIn, StandardCharsets.ISO_8859_1));
            out = plain.getOutputStream();
        }

        /**
         * Reads the greeting (a 220), says EHLO and STARTTLS pipelined; returns the reply to STARTTLS (the TLS is
         * still to start).
         */
        List<String> startTls(String helo) throws IOException {
            assertThat(line()).as("greeting").startsWith("220 ");
            send("EHLO " + helo + "\r\nSTARTTLS\r\n");
            reply();
            return reply();
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        String line() throws IOException {
            return reader.readLine();
        }

        /** Every line of one (possibly multi-line) reply. */
        List<String> reply() throws IOException {
            List<String> lines = new ArrayList<>();
            String l;
            do {
                l = reader.readLine();
                if (l == null) {
                    throw new IOException("connection closed; got " + lines);
                }
                lines.add(l);
            } while (l.length() > 3 && l.charAt(3) == '-');
            return lines;
        }

        void upgrade() throws Exception {
            upgrade(trusting());
        }

        void upgrade(SSLContext context) throws Exception {
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost",
                    plain.getPort(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            socket = tls;
            reader = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.ISO_8859_1));
            out = tls.getOutputStream();
        }

        java.security.cert.Certificate peerCertificate() throws Exception {
            return ((SSLSocket) socket).getSession().getPeerCertificates()[0];
        }

        @Override
        public void close() throws IOException {
            socket.close();
            plain.close();
        }
    }

    private static java.security.cert.Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** A client context that takes any certificate, to see which one the server presents. */
    private static SSLContext trustingAny() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new AnyServerCertificate()}, null);
        return ctx;
    }

    private static SSLContext trusting() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(cert.certificate())) {
            ks.setCertificateEntry("tern", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}

package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import dev.tern.testing.PrivatePostfix;
import dev.tern.testing.TestCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS (RFC 3207) with real clients: swaks, Python's smtplib and a private Postfix relaying into Tern. Every
 * client checks Tern's certificate against the test certificate (its own CA); Tern must say ESMTPS in the Received
 * header of what it stores.
 */
@Timeout(120)
class StartTlsInteropTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    /** Tern's certificate and key: self-signed for localhost and 127.0.0.1. */
    static TestCertificate cert;

    /** Postfix and the two Tern servers it relays to; started by the first Postfix test, stopped after all. */
    private static PostfixPeers peers;

    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    @BeforeAll
    static void makeCertificate() throws Exception {
        assumeTrue(TestCertificate.available(), "openssl is installed by .ci/install-peers");
        // Postfix's smtp client reads the CA file as the postfix user.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        cert = TestCertificate.create(dir, "tern-tls");
        Files.setPosixFilePermissions(cert.certificate(), PosixFilePermissions.fromString("rw-r--r--"));
    }

    @AfterAll
    static void stopPeers() throws Exception {
        if (peers != null) {
            peers.close();
            peers = null;
        }
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            assertThat(server.outstandingBuffers()).as("buffers outstanding after close").isZero();
        }
    }

    private void startWithTls() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withTls(cert.certificate(), cert.privateKey())),
                journal);
    }

    private void startWithoutTls() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal);
    }

    // ---------------------------------------------------------------------------------------------------- swaks

    private ExternalProcess swaks(String... extra) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/swaks")), "swaks is installed by .ci/install-peers");
        List<String> cmd = new ArrayList<>(List.of("swaks", "--server", "127.0.0.1", "--port",
                Integer.toString(server.localAddress().getPort()), "--helo", "swaks.example",
                "--from", "alice@example.org", "--to", "bob@example.net", "--timeout", "10"));
        cmd.addAll(List.of(extra));
        return ExternalProcess.run(cmd, null);
    }

    @Test
    void swaksSendsOverStartTlsCheckingTheCertificate() throws Exception {
        startWithTls();
        ExternalProcess r = swaks("--tls", "--tls-verify", "--tls-ca-path", cert.certificate().toString(),
                "--body", "hello over tls from swaks");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as(r.output())
                .contains(" -> STARTTLS", "<-  220 2.0.0 Ready to start TLS")
                .containsPattern("=== TLS started with cipher TLSv1\\.[23]")
                .contains(" ~> EHLO swaks.example") // the second EHLO, inside TLS
                .containsPattern("<~  250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        assertThat(r.output()).as("STARTTLS is not offered again inside TLS")
                .doesNotContainPattern("<~ +250[- ]STARTTLS");
        assertThat(journal.stored()).singleElement().satisfies(m -> {
            assertThat(m.bodyText()).contains(" with ESMTPS ").contains("hello over tls from swaks");
            assertThat(m.envelope().sender()).isEqualTo("alice@example.org");
        });
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
    }

    /** The check above is real: with another CA swaks gives up after the handshake, and sends no mail. */
    @Test
    void swaksVerifyingAgainstAnotherCaSendsNothing() throws Exception {
        startWithTls();
        TestCertificate other = TestCertificate.create(dir, "swaks-other-ca");
        ExternalProcess r = swaks("--tls", "--tls-verify", "--tls-ca-path", other.certificate().toString(),
                "--body", "must not be sent");

        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).as(r.output()).contains("<-  220 2.0.0 Ready to start TLS")
                .doesNotContain("queued as");
        assertThat(journal.stored()).isEmpty();
    }

    @Test
    void swaksPipelinesInsideTls() throws Exception {
        startWithTls();
        ExternalProcess r = swaks("--tls", "--pipeline", "--to", "bob@example.net,carol@example.net",
                "--body", "pipelined over tls");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as(r.output())
                .containsPattern("=== TLS started with cipher TLSv1\\.[23]")
                .containsPattern("<~  250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        assertThat(journal.stored()).singleElement().satisfies(m -> {
            assertThat(m.bodyText()).contains(" with ESMTPS ").contains("pipelined over tls");
            assertThat(m.envelope().recipients()).hasSize(2);
        });
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
    }

    @Test
    void swaksRequiringTlsGivesUpOnATernWithoutIt() throws Exception {
        startWithoutTls();
        ExternalProcess r = swaks("--tls", "--body", "must not be sent in plaintext");

        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).as(r.output()).contains("*** Host did not advertise STARTTLS")
                .doesNotContain("TLS started").doesNotContain("queued as").doesNotContain("MAIL FROM");
        assertThat(journal.stored()).isEmpty();
        assertThat(server.stats().tlsSessions()).isZero();
    }

    /** tls-required: swaks in plaintext is refused at MAIL with 530 5.7.0; with --tls the same message goes. */
    @Test
    void ternRequiringTlsRefusesSwaksInPlaintext() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withTls(cert.certificate(), cert.privateKey())
                .withTlsRequired(true)), journal);
        ExternalProcess plain = swaks("--body", "plaintext is refused");
        assertThat(plain.exitCode()).as(plain.output()).isNotZero();
        assertThat(plain.output()).contains("<** 530 5.7.0 Must issue a STARTTLS command first");
        assertThat(journal.stored()).isEmpty();

        ExternalProcess tls = swaks("--tls", "--body", "over tls");
        assertThat(tls.exitCode()).as(tls.output()).isZero();
        assertThat(journal.stored()).singleElement().satisfies(m -> assertThat(m.bodyText()).contains(" with ESMTPS "));
    }

    // --------------------------------------------------------------------------------------------- python smtplib

    private static final String PYTHON_CLIENT = """
            import smtplib, ssl, sys
            port, cafile = int(sys.argv[1]), sys.argv[2]
            ctx = ssl.create_default_context(cafile=cafile)
            assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
            s = smtplib.SMTP('localhost', port, timeout=20)
            s.ehlo('python.example')
            assert s.has_extn('starttls'), s.esmtp_features
            code, reply = s.starttls(context=ctx)
            print('starttls', code, reply.decode())
            print('tls', s.sock.version(), s.sock.server_hostname)
            s.ehlo('python.example')
            assert 'starttls' not in s.esmtp_features, s.esmtp_features
            assert 'pipelining' in s.esmtp_features, s.esmtp_features
            refused = s.sendmail('py@example.org', ['bob@example.net'],
                                 b'Subject: python over tls\\r\\n\\r\\nsent by smtplib inside TLS\\r\\n')
            assert refused == {}, refused
            print('quit', s.quit()[0])
            """;

    private ExternalProcess python(Path cafile) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "python3");
        return ExternalProcess.run(List.of(python.toString(), "-c", PYTHON_CLIENT,
                Integer.toString(server.localAddress().getPort()), cafile.toString()), null);
    }

    @Test
    void pythonSmtplibUpgradesVerifiesLocalhostAndSends() throws Exception {
        startWithTls();
        ExternalProcess r = python(cert.certificate());

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as(r.output())
                .contains("starttls 220 2.0.0 Ready to start TLS")
                .containsPattern("tls TLSv1\\.[23] localhost")
                .contains("quit 221");
        assertThat(journal.stored()).singleElement().satisfies(m -> {
            assertThat(m.bodyText()).contains("from python.example ([127.0.0.1])", " with ESMTPS ",
                    "sent by smtplib inside TLS");
            assertThat(m.envelope().sender()).isEqualTo("py@example.org");
        });
        assertThat(server.stats().tlsSessions()).isEqualTo(1);
    }

    @Test
    void pythonSmtplibRefusesACertificateItDoesNotTrust() throws Exception {
        startWithTls();
        TestCertificate other = TestCertificate.create(dir, "other-ca");
        ExternalProcess r = python(other.certificate());

        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("CERTIFICATE_VERIFY_FAILED");
        assertThat(journal.stored()).isEmpty();
        assertThat(server.stats().tlsSessions()).isZero();
        // Tern served on after the failed handshake.
        ExternalProcess ok = python(cert.certificate());
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(journal.stored()).hasSize(1);
    }

    // -------------------------------------------------------------------------------------------- Postfix client

    /**
     * A private Postfix whose smtp client insists on verified TLS ({@code smtp_tls_security_level = secure}): the
     * chain must lead to the test certificate ({@code smtp_tls_CAfile}) and a DNS name in it must match the next
     * hop ({@code smtp_tls_secure_cert_match = nexthop}). The next hops are written {@code [localhost]:PORT}: Postfix
     * matches only DNS names, never the certificate's IP address, and localhost resolves to 127.0.0.1 with
     * {@code smtp_host_lookup = native}. Mail for any domain goes to the relayhost, the Tern with STARTTLS; mail
     * for plain.test goes (transport_maps) to a Tern without it.
     */
    private static final class PostfixPeers implements AutoCloseable {
        final MemoryJournal tlsJournal = new MemoryJournal();
        final MemoryJournal plainJournal = new MemoryJournal();
        final SmtpServer tlsTern;
        final SmtpServer plainTern;
        final PrivatePostfix postfix;

        PostfixPeers() throws Exception {
            tlsTern = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()
                    .withTls(cert.certificate(), cert.privateKey())), tlsJournal);
            plainTern = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), plainJournal);
            PrivatePostfix p;
            try {
                p = PrivatePostfix.start(Map.of("plain.test", plainTern.localAddress().getPort()), Map.of(
                        "relayhost", "[localhost]:" + tlsTern.localAddress().getPort(),
                        "transport_maps", "inline:{ plain.test=smtp:[localhost]:"
                                + plainTern.localAddress().getPort() + " }",
                        "smtp_tls_security_level", "secure",
                        "smtp_tls_secure_cert_match", "nexthop",
                        "smtp_tls_CAfile", cert.certificate().toString(),
                        "smtp_tls_loglevel", "1"));
            } catch (Exception e) {
                tlsTern.close();
                plainTern.close();
                throw e;
            }
            postfix = p;
        }

        @Override
        public void close() throws Exception {
            try {
                postfix.close();
            } finally {
                tlsTern.close();
                plainTern.close();
            }
        }
    }

    private static PostfixPeers postfixPeers() throws Exception {
        assumeTrue(PrivatePostfix.available(), "postfix is installed by .ci/install-peers; the test needs root");
        if (peers == null) {
            peers = new PostfixPeers();
        }
        return peers;
    }

    /** Submits a message to Postfix's smtpd in plaintext (Postfix offers no TLS to its own clients here). */
    private static ExternalProcess submitToPostfix(PostfixPeers p, String to, String body) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/swaks")), "swaks is installed by .ci/install-peers");
        return ExternalProcess.run(List.of("swaks", "--server", "127.0.0.1", "--port",
                Integer.toString(p.postfix.port()), "--helo", "submitter.example", "--from", "a@sender.test",
                "--to", to, "--body", body, "--timeout", "10"), null);
    }

    @Test
    void postfixRelaysIntoTernOverVerifiedTls() throws Exception {
        PostfixPeers p = postfixPeers();
        long tlsBefore = p.tlsTern.stats().tlsSessions();
        ExternalProcess submit = submitToPostfix(p, "u@tern.test", "relayed by postfix over tls");
        assertThat(submit.exitCode()).as(submit.output()).isZero();

        assertThat(await(() -> !p.tlsJournal.stored().isEmpty())).as(p.postfix.log()).isTrue();

        assertThat(p.tlsJournal.stored()).singleElement().satisfies(m -> {
            // Tern's own Received header is first; Postfix's (from the submitter) follows it.
            assertThat(m.bodyText()).startsWith("Received: from postfix.test ([127.0.0.1])")
                    .contains(" with ESMTPS ", "relayed by postfix over tls", "from submitter.example");
            assertThat(m.envelope().sender()).isEqualTo("a@sender.test");
            assertThat(m.envelope().recipients()).singleElement().satisfies(r ->
                    assertThat(r.address()).isEqualTo("u@tern.test"));
        });
        assertThat(p.tlsTern.stats().tlsSessions()).isGreaterThanOrEqualTo(tlsBefore + 1);
        // Postfix checked the chain and the name: "Verified", not "Trusted" or "Untrusted".
        assertThat(p.postfix.log())
                .containsPattern("Verified TLS connection established to localhost\\[127\\.0\\.0\\.1]:"
                        + p.tlsTern.localAddress().getPort() + ": TLSv1\\.[23]");
    }

    @Test
    void postfixRequiringTlsDefersRatherThanSendInPlaintext() throws Exception {
        PostfixPeers p = postfixPeers();
        ExternalProcess submit = submitToPostfix(p, "u@plain.test", "must stay queued");
        assertThat(submit.exitCode()).as(submit.output()).isZero();

        String refusal = "TLS is required, but was not offered by host localhost[127.0.0.1]";
        assertThat(await(() -> logOf(p).lines().anyMatch(l -> l.contains("to=<u@plain.test>")
                && l.contains("status=deferred") && l.contains(refusal)))).as(logOf(p)).isTrue();

        assertThat(p.plainJournal.stored()).isEmpty();
        assertThat(p.plainTern.stats().tlsSessions()).isZero();
    }

    private static String logOf(PostfixPeers p) {
        try {
            return p.postfix.log();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static boolean await(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.testing.PrivatePostfix;
import dev.tern.testing.TestCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tern's opportunistic STARTTLS to a real next hop: a private Postfix whose smtpd offers STARTTLS with a test
 * certificate ({@code smtpd_tls_security_level = may}, or {@code encrypt} where TLS is required) and logs its TLS
 * sessions. Postfix relays what it takes onward, in plaintext, to a {@link TestSink}; Postfix's Received header there
 * says whether Tern's message came over TLS ({@code smtpd_tls_received_header = yes}). Every test starts its own
 * Postfix, so its log holds only that test's connections.
 */
@Timeout(120)
class StartTlsPostfixTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String HEADERS = "From: a@sender.test\r\nTo: u@rcpt.test\r\nSubject: starttls to postfix\r\n"
            + "Date: Wed, 25 Nov 2026 16:00:00 +0000\r\nMessage-ID: <starttls-postfix@sender.test>\r\n";
    private static final String BODY = body();
    private static final String TLS_LOG_LINE = "TLS connection established from";
    private static final String MUST_STARTTLS = "Must issue a STARTTLS command first";

    @TempDir
    static Path dir;
    /** Postfix smtpd's certificate and key: self-signed; Tern checks nothing, as opportunistic TLS does. */
    static TestCertificate cert;

    private final MemoryJournal journal = new MemoryJournal();
    /** Where Postfix relays mail for rcpt.test. */
    private TestSink postfixOut;
    /** Where Tern delivers its DSNs (mail for sender.test). */
    private TestSink dsnSink;
    private PrivatePostfix postfix;
    private DeliveryEngine engine;

    private static String body() {
        StringBuilder sb = new StringBuilder("\r\n");
        for (int i = 0; i < 500; i++) {
            sb.append(i % 7 == 0 ? "." : "").append("line ").append(i).append(" of the body sent over STARTTLS\r\n");
        }
        return sb.append(".\r\n..\r\nend\r\n").toString();
    }

    @BeforeAll
    static void certificate() throws Exception {
        assumeTrue(PrivatePostfix.available(), "postfix is installed by .ci/install-peers; the test needs root");
        assumeTrue(TestCertificate.available(), "openssl is installed by .ci/install-peers");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        cert = TestCertificate.create(dir, "postfix-hop");
        Files.setPosixFilePermissions(cert.certificate(), PosixFilePermissions.fromString("rw-r--r--"));
    }

    @BeforeEach
    void sinks() throws IOException {
        postfixOut = TestSink.start();
        dsnSink = TestSink.start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (engine != null) {
                engine.close();
                assertThat(engine.buffersOutstanding()).isZero();
            }
        } finally {
            try {
                if (postfix != null) {
                    postfix.close();
                }
            } finally {
                postfixOut.close();
                dsnSink.close();
            }
        }
    }

    /** A private Postfix offering STARTTLS at {@code level} (may, encrypt), relaying rcpt.test to the sink. */
    private void startPostfix(String level) throws Exception {
        postfix = PrivatePostfix.start(Map.of("rcpt.test", postfixOut.port()), Map.of(
                "smtpd_tls_security_level", level,
                "smtpd_tls_cert_file", cert.certificate().toString(),
                "smtpd_tls_key_file", cert.privateKey().toString(),
                "smtpd_tls_loglevel", "1",
                "smtpd_tls_received_header", "yes"));
    }

    private void startEngine(boolean startTls) {
        DeliverySettings s = DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(new HostPort("127.0.0.1", postfix.port())),
                        "sender.test", List.of(dsnSink.hostPort())))
                .withRetries(List.of(Duration.ofMillis(200)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5))
                .withHeloName("tern.test").withStartTls(startTls);
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
    }

    private long submit() throws Exception {
        return journal.submit("a@sender.test", List.of("u@rcpt.test"), HEADERS + BODY);
    }

    /** What Postfix relayed to the sink; its first header is Postfix's Received header for Tern's connection. */
    private TestSink.Received relayed() throws Exception {
        TestSink.Received r = postfixOut.next(WAIT);
        assertThat(r).as("nothing relayed by Postfix; its log:\n%s", postfix.log()).isNotNull();
        assertThat(r.mail()).startsWith("<a@sender.test>");
        assertThat(r.rcpts()).containsExactly("u@rcpt.test");
        assertThat(r.text()).contains(HEADERS.split("\r\n")).endsWith(BODY);
        return r;
    }

    /** The first header field of {@code text}, with its folded continuation lines. */
    private static String firstHeader(String text) {
        int end = 0;
        do {
            end = text.indexOf("\r\n", end) + 2;
        } while (end > 1 && end < text.length() && (text.charAt(end) == ' ' || text.charAt(end) == '\t'));
        return text.substring(0, end);
    }

    /** Postfix's log once {@code condition} holds on it, or after {@link #WAIT} (postlogd writes it asynchronously). */
    private String logWhen(Predicate<String> condition) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        String log = postfix.log();
        while (!condition.test(log) && System.nanoTime() < end) {
            Thread.sleep(50);
            log = postfix.log();
        }
        return log;
    }

    /** Opportunistic STARTTLS against Postfix's 'may': TLS, as both Postfix's log and its Received header say. */
    @Test
    void deliversOverStartTlsToPostfix() throws Exception {
        startPostfix("may");
        startEngine(true);
        long id = submit();

        TestSink.Received r = relayed();
        String received = firstHeader(r.text());
        assertThat(received).as(r.text())
                .startsWith("Received: from tern.test (")
                .contains("[127.0.0.1])", "(using TLSv1", " with ESMTPS id ", "by postfix.test (Postfix)")
                .contains("(No client certificate requested)");
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        assertThat(journal.outcomesOf(id)).singleElement().extracting(Outcome::detail).asString()
                .contains("127.0.0.1:" + postfix.port());
        String log = logWhen(l -> l.contains(TLS_LOG_LINE));
        assertThat(log).as(log).containsPattern("Anonymous TLS connection established from \\S*\\[127\\.0\\.0\\.1]:"
                + " TLSv1\\.[23] with cipher ");
    }

    /** With delivery-starttls off Tern ignores Postfix's offer: plaintext, by the log and by the Received header. */
    @Test
    void deliversInPlaintextWithStartTlsOff() throws Exception {
        startPostfix("may");
        startEngine(false);
        long id = submit();

        TestSink.Received r = relayed();
        String received = firstHeader(r.text());
        assertThat(received).as(r.text())
                .startsWith("Received: from tern.test (")
                .contains(" with ESMTP id ")
                .doesNotContain("(using TLS", "ESMTPS", "client certificate");
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        // Postfix logged the connection and its queueing, and no TLS session at all.
        String log = logWhen(l -> l.contains("connect from") && l.contains("client=") && l.contains("status=sent"));
        assertThat(log).as(log).contains("connect from", "client=", "status=sent")
                .doesNotContain(TLS_LOG_LINE).doesNotContain("STARTTLS");
    }

    /**
     * Postfix requiring TLS ('encrypt') and Tern not starting it: Postfix answers MAIL (and the pipelined RCPT and
     * DATA) with 530 5.7.0. RFC 3207 4 makes that a permanent refusal, and Tern bounces: BOUNCED at once, no retry,
     * and a DSN to the sender quoting Postfix's reply. Nothing reaches Postfix's queue.
     */
    @Test
    void postfixRequiringTlsRefusesPlaintextAndTernBounces() throws Exception {
        startPostfix("encrypt");
        startEngine(false);
        long id = submit();

        assertThat(journal.awaitFinal(id, WAIT)).as("%s\n%s", journal.outcomesOf(id), postfix.log()).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
        assertThat(journal.outcomesOf(id)).singleElement().satisfies(o -> {
            assertThat(o.kind()).isEqualTo(OutcomeKind.BOUNCED);
            assertThat(o.detail()).contains("127.0.0.1:" + postfix.port(), "530", "5.7.0", MUST_STARTTLS);
        });
        assertThat(journal.bounces()).singleElement().satisfies(dsn ->
                assertThat(dsn.recipients()).singleElement().satisfies(rc ->
                        assertThat(rc.address()).isEqualTo("a@sender.test")));
        TestSink.Received report = dsnSink.next(WAIT);
        assertThat(report).as("the DSN was not delivered").isNotNull();
        assertThat(report.mail()).startsWith("<>");
        assertThat(report.rcpts()).containsExactly("a@sender.test");
        assertThat(report.text()).contains("u@rcpt.test", "5.7.0", MUST_STARTTLS);

        assertThat(postfixOut.next(Duration.ofMillis(500))).as("Postfix relayed a message it must have refused")
                .isNull();
        String log = postfix.log();
        assertThat(log).as(log).doesNotContain(TLS_LOG_LINE).doesNotContain("client=");
    }

    /** The same Postfix requiring TLS takes the message once Tern's STARTTLS is on (the default). */
    @Test
    void postfixRequiringTlsTakesTheMessageOverStartTls() throws Exception {
        startPostfix("encrypt");
        startEngine(true);
        long id = submit();

        TestSink.Received r = relayed();
        assertThat(firstHeader(r.text())).as(r.text()).contains("(using TLSv1", " with ESMTPS id ");
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        assertThat(journal.bounces()).isEmpty();
        String log = logWhen(l -> l.contains(TLS_LOG_LINE));
        assertThat(log).as(log).contains(TLS_LOG_LINE).doesNotContain(MUST_STARTTLS);
    }
}

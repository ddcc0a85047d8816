package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.OutcomeKind;
import dev.tern.session.SmtpServer;
import dev.tern.testing.PrivatePostfix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Postfix both ways: Tern's client relays into a private Postfix, and Postfix relays into Tern's server, whose
 * delivery engine passes the mail on. Postfix hands everything on to test sinks; the content must arrive intact.
 */
class PostfixInteropTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String HEADERS = "From: a@sender.test\r\nTo: u@rcpt.test\r\nSubject: interop\r\n"
            + "Date: Wed, 25 Nov 2026 16:00:00 +0000\r\nMessage-ID: <interop@sender.test>\r\n";
    private static final String BODY = body();

    private static TestSink postfixOut;
    private static TestSink ternOut;
    private static SmtpServer server;
    private static MemoryJournal serverJournal;
    private static DeliveryEngine serverEngine;
    private static PrivatePostfix postfix;

    private DeliveryEngine engine;

    @TempDir
    Path tmp;

    private static String body() {
        StringBuilder sb = new StringBuilder("\r\n");
        for (int i = 0; i < 2000; i++) {
            sb.append(i % 7 == 0 ? "." : "").append("line ").append(i).append(" of the interop body\r\n");
        }
        return sb.append(".\r\n..\r\nend\r\n").toString();
    }

    @BeforeAll
    static void startPeers() throws Exception {
        assumeTrue(PrivatePostfix.available(), "postfix is installed by .ci/install-peers; the test needs root");
        postfixOut = TestSink.start();
        ternOut = TestSink.start();
        serverJournal = new MemoryJournal();
        RelayConfig ternConfig = RelayConfig.defaults().withListen(new HostPort("127.0.0.1", 0))
                .withDelivery(DeliverySettings.defaults()
                        .withRoutes(Map.of("tern.test", List.of(ternOut.hostPort())))
                        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5)));
        server = SmtpServer.start(ternConfig, serverJournal);
        serverEngine = DeliveryEngine.start(ternConfig, serverJournal);
        postfix = PrivatePostfix.start(Map.of("rcpt.test", postfixOut.port(),
                "tern.test", server.localAddress().getPort()));
    }

    @AfterAll
    static void stopPeers() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (serverEngine != null) {
            serverEngine.close();
        }
        if (server != null) {
            server.close();
        }
        if (postfixOut != null) {
            postfixOut.close();
            ternOut.close();
        }
    }

    @AfterEach
    void stopEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void ternRelaysIntoPostfixIntact() throws Exception {
        MemoryJournal journal = new MemoryJournal();
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(new HostPort("127.0.0.1", postfix.port()))))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5))), journal);
        long id = journal.submit("a@sender.test", List.of("u@rcpt.test"), HEADERS + BODY);

        TestSink.Received r = postfixOut.next(WAIT);

        assertThat(r).as(postfix.log()).isNotNull();
        assertThat(r.mail()).startsWith("<a@sender.test>");
        assertThat(r.text()).contains(HEADERS.split("\r\n")).endsWith(BODY);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void postfixRelaysIntoTernIntact() throws Exception {
        String headers = HEADERS.replace("u@rcpt.test", "u@tern.test");
        Path message = tmp.resolve("message.eml");
        Files.writeString(message, headers + BODY, StandardCharsets.UTF_8);
        // Python's smtplib as the submitting client: it dot-stuffs and sends the bytes as they are.
        String script = "import smtplib,sys\n"
                + "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)\n"
                + "s.sendmail('a@sender.test', ['u@tern.test'], open(sys.argv[2], 'rb').read())\n"
                + "s.quit()\n";
        Process client = new ProcessBuilder("python3", "-c", script, String.valueOf(postfix.port()),
                message.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("client.log").toFile())
                .start();
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).as(Files.readString(tmp.resolve("client.log"))).isZero();

        TestSink.Received r = ternOut.next(WAIT);

        assertThat(r).as(postfix.log()).isNotNull();
        assertThat(r.mail()).startsWith("<a@sender.test>");
        assertThat(r.rcpts()).containsExactly("u@tern.test");
        assertThat(r.text()).contains(headers.split("\r\n")).endsWith(BODY).contains("postfix.test");
    }
}

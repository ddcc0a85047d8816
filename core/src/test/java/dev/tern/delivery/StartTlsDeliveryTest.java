package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import dev.tern.testing.TestCertificate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opportunistic STARTTLS to the next hop: a Tern SMTP server with a certificate as the hop (its Received header
 * says whether the message came over TLS), and a scripted hop whose TLS is broken.
 */
class StartTlsDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: tls\r\nFrom: a@sender.test\r\n\r\nover the wire\r\n";

    @TempDir
    static Path dir;
    static TestCertificate cert;

    private final MemoryJournal journal = new MemoryJournal();
    private final dev.tern.session.MemoryJournal hopJournal = new dev.tern.session.MemoryJournal();
    private SmtpServer hop;
    private DeliveryEngine engine;

    @BeforeAll
    static void certificate() throws Exception {
        assumeThat(TestCertificate.available()).as("openssl").isTrue();
        cert = TestCertificate.create(dir, "hop");
    }

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.close();
            assertThat(engine.buffersOutstanding()).isZero();
        }
        if (hop != null) {
            hop.close();
            assertThat(hop.outstandingBuffers()).isZero();
        }
    }

    private HostPort startHop(boolean tls) throws IOException {
        var smtp = TestConfigs.smtp();
        hop = SmtpServer.start(TestConfigs.relay(tls ? smtp.withTls(cert.certificate(), cert.privateKey()) : smtp),
                hopJournal);
        return new HostPort("127.0.0.1", hop.localAddress().getPort());
    }

    private void startEngine(HostPort next, boolean startTls) {
        DeliverySettings s = DeliverySettings.defaults().withSmarthost(next)
                .withRetries(List.of(Duration.ofMillis(100)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withHeloName("tern.test").withStartTls(startTls);
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
    }

    private String deliveredBody() throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (hopJournal.stored().isEmpty() && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(hopJournal.stored()).hasSize(1);
        return hopJournal.stored().getFirst().bodyText();
    }

    @Test
    void startsTlsWithAHopThatOffersIt() throws Exception {
        startEngine(startHop(true), true);
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(deliveredBody()).contains("from tern.test (", " with ESMTPS id ").endsWith(MESSAGE);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        assertThat(hop.stats().tlsSessions()).isEqualTo(1);
    }

    @Test
    void staysInPlaintextWhenSwitchedOffOrNotOffered() throws Exception {
        startEngine(startHop(true), false);
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(deliveredBody()).contains(" with ESMTP id ");
        assertThat(hop.stats().tlsSessions()).isZero();
    }

    @Test
    void plaintextHopGetsMailAsBefore() throws Exception {
        startEngine(startHop(false), true);
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(deliveredBody()).contains(" with ESMTP id ");
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
    }

    /**
     * A hop that offers STARTTLS and then breaks the handshake: the attempt is deferred with 4.7.5, and the retry
     * goes in plaintext, without saying STARTTLS again.
     */
    @Test
    void brokenTlsDefersOnceThenGoesInPlaintext() throws Exception {
        try (BrokenTlsHop broken = new BrokenTlsHop(300)) {
            List<Outcome> outcomes = deliverThrough(broken);
            assertThat(outcomes.getFirst().detail()).contains("451 4.7.5", "TLS handshake", "failed");
            assertThat(broken.startTlsSeen.get()).isEqualTo(1);
            assertThat(broken.messages).singleElement().asString().endsWith("over the wire\r\n");
        }
    }

    /** Bytes right behind the 220 to STARTTLS came in plaintext: not taken as the TLS handshake (CVE-2011-0411). */
    @Test
    void plaintextAfterTheGoAheadIsRefusedThenPlaintextIsUsed() throws Exception {
        try (BrokenTlsHop broken = new BrokenTlsHop(0)) {
            List<Outcome> outcomes = deliverThrough(broken);
            assertThat(outcomes.getFirst().detail()).contains("451 4.7.5");
            assertThat(broken.startTlsSeen.get()).isEqualTo(1);
            assertThat(broken.messages).hasSize(1);
        }
    }

    private List<Outcome> deliverThrough(BrokenTlsHop broken) throws Exception {
        startEngine(new HostPort("127.0.0.1", broken.port()), true);
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        List<Outcome> outcomes = journal.outcomesOf(id);
        assertThat(outcomes).extracting(Outcome::kind).containsExactly(OutcomeKind.DEFERRED, OutcomeKind.DELIVERED);
        return outcomes;
    }

    /**
     * Offers STARTTLS, answers it with 220 and then, {@code garbageDelayMillis} later, sends garbage instead of a TLS
     * ServerHello; takes mail in plaintext otherwise.
     */
    private static final class BrokenTlsHop implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        final AtomicInteger startTlsSeen = new AtomicInteger();
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());
        final long garbageDelayMillis;
        final Thread acceptor;
        /** The connection being served (the engine may keep one cached): closed with the hop. */
        volatile Socket current;

        BrokenTlsHop(long garbageDelayMillis) throws IOException {
            this.garbageDelayMillis = garbageDelayMillis;
            this.acceptor = Thread.ofVirtual().start(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    current = s;
                    serve(s);
                } catch (IOException e) {
                    // the client left, or the test is over
                }
            }
        }

        private void serve(Socket s) throws IOException {
            s.setSoTimeout(5_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            say(out, "220 broken.test ESMTP");
            StringBuilder data = null;
            String line;
            while ((line = in.readLine()) != null) {
                if (data != null) {
                    if (line.equals(".")) {
                        messages.add(data.toString());
                        data = null;
                        say(out, "250 2.0.0 queued");
                    } else {
                        data.append(line).append("\r\n");
                    }
                    continue;
                }
                String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase() : line.toUpperCase();
                switch (verb) {
                    case "EHLO" -> say(out, "250-broken.test\r\n250-8BITMIME\r\n250 STARTTLS");
                    case "STAR" -> {
                        startTlsSeen.incrementAndGet();
                        out.write("220 2.0.0 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                        if (garbageDelayMillis > 0) {
                            out.flush();
                            sleep(garbageDelayMillis);
                        }
                        out.write("this is no TLS ServerHello\r\n".repeat(4).getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        return;
                    }
                    case "DATA" -> {
                        data = new StringBuilder();
                        say(out, "354 go on");
                    }
                    case "QUIT" -> {
                        say(out, "221 bye");
                        return;
                    }
                    default -> say(out, "250 ok");
                }
            }
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void say(OutputStream out, String reply) throws IOException {
            out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        @Override
        public void close() throws Exception {
            server.close();
            Socket s = current;
            if (s != null) {
                s.close();
            }
            acceptor.join(5_000);
        }
    }
}

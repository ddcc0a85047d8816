package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.RelayConfig;
import dev.tern.config.SmtpSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server over real loopback sockets: admission limits, timeouts, pipelining on the wire, shutdown, stats. */
class SmtpServerTest {
    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    private SmtpServer start(RelayConfig config) throws IOException {
        server = SmtpServer.start(config, journal);
        return server;
    }

    @AfterEach
    void stopAndCheckBuffers() {
        if (server != null) {
            server.close();
            assertThat(server.outstandingBuffers()).as("buffers outstanding after close").isZero();
        }
    }

    @Test
    void acceptsMessageAndAnswersWithQueueId() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        try (RawClient c = new RawClient(server.localAddress())) {
            assertThat(c.reply()).isEqualTo("220 tern.test ESMTP Tern");
            c.send("EHLO me.example\r\n");
            assertThat(c.reply()).startsWith("250-tern.test").endsWith("250 DSN");
            c.send("MAIL FROM:<a@example.org>\r\n");
            assertThat(c.reply()).startsWith("250 2.1.0");
            c.send("RCPT TO:<b@example.net>\r\n");
            assertThat(c.reply()).startsWith("250 2.1.5");
            c.send("DATA\r\n");
            assertThat(c.reply()).startsWith("354");
            c.send("Subject: t\r\n\r\nbody\r\n.\r\n");
            String queued = c.reply();
            assertThat(queued).matches("250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
            assertThat(journal.stored()).hasSize(1);
            assertThat(queued).endsWith(dev.tern.message.QueueId.format(journal.stored().get(0).envelope().queueId()));
            c.send("QUIT\r\n");
            assertThat(c.reply()).startsWith("221");
        }
        assertThat(server.stats().messagesAccepted()).isEqualTo(1);
    }

    @Test
    void pipelinedBatchInOneWriteGetsEveryReplyInOrder() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        StringBuilder batch = new StringBuilder("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\n");
        for (int i = 0; i < 10; i++) {
            batch.append("RCPT TO:<r").append(i).append("@example.net>\r\n");
        }
        batch.append("DATA\r\n");
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send(batch.toString());
            assertThat(c.reply()).startsWith("250-tern.test");
            assertThat(c.reply()).startsWith("250 2.1.0");
            for (int i = 0; i < 10; i++) {
                assertThat(c.reply()).as("rcpt %d", i).startsWith("250 2.1.5");
            }
            assertThat(c.reply()).startsWith("354");
            c.send("x\r\n.\r\nNOOP\r\nQUIT\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok: queued as");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok");
            assertThat(c.reply()).startsWith("221");
        }
    }

    @Test
    void largeMessageIsStoredIntact() throws IOException {
        start(TestConfigs.relay(TestConfigs.withMaxMessageSize(TestConfigs.smtp(), 4 << 20)));
        StringBuilder content = new StringBuilder();
        for (int i = 0; content.length() < 2_000_000; i++) {
            content.append(i % 50 == 0 ? "." : "").append("line ").append(i).append(" of a large message\r\n");
        }
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            for (int i = 0; i < 3; i++) {
                c.reply();
            }
            assertThat(c.reply()).startsWith("354");
            String stuffed = ("\r\n" + content).replace("\r\n.", "\r\n..").substring(2); // RFC 5321 4.5.2
            c.send(stuffed + ".\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        String stored = journal.stored().get(0).bodyText();
        assertThat(stored.substring(stored.indexOf("\r\n", stored.indexOf("\tfor <")) + 2))
                .isEqualTo(content.toString());
    }

    @Test
    void pipelinedBdatChunksWithCommandsAfterThemAreAllAnswered() throws IOException {
        start(TestConfigs.relay(TestConfigs.withMaxMessageSize(TestConfigs.smtp(), 4 << 20)));
        String chunk = ("0123456789".repeat(10) + "\r\n").repeat(3000);
        StringBuilder batch = new StringBuilder("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\n"
                + "RCPT TO:<b@example.net>\r\n");
        for (int i = 0; i < 3; i++) {
            batch.append("BDAT ").append(chunk.length()).append(i == 2 ? " LAST" : "").append("\r\n").append(chunk);
        }
        batch.append("NOOP\r\n".repeat(200)).append("QUIT\r\n");
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send(batch.toString());
            assertThat(c.reply()).startsWith("250-");
            assertThat(c.reply()).startsWith("250 2.1.0");
            assertThat(c.reply()).startsWith("250 2.1.5");
            assertThat(c.reply()).startsWith("250 2.0.0 Chunk ok");
            assertThat(c.reply()).startsWith("250 2.0.0 Chunk ok");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok: queued as");
            for (int i = 0; i < 200; i++) {
                assertThat(c.reply()).isEqualTo("250 2.0.0 Ok");
            }
            assertThat(c.reply()).startsWith("221");
        }
        assertThat(journal.stored().get(0).bodyText()).endsWith(chunk.repeat(3));
    }

    @Test
    void connectionOverTotalLimitGets421() throws IOException {
        start(TestConfigs.relay(TestConfigs.withConnections(TestConfigs.smtp(), 2, 10, false)));
        try (RawClient a = new RawClient(server.localAddress()); RawClient b = new RawClient(server.localAddress())) {
            assertThat(a.reply()).startsWith("220");
            assertThat(b.reply()).startsWith("220");
            try (RawClient c = new RawClient(server.localAddress())) {
                assertThat(c.reply()).isEqualTo("421 4.7.0 Too many connections, try again later");
                assertThat(c.closedByServer()).isTrue();
            }
        }
        assertThat(server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS)).isEqualTo(1);
    }

    @Test
    void permitReturnsWhenSessionEnds() throws IOException {
        start(TestConfigs.relay(TestConfigs.withConnections(TestConfigs.smtp(), 1, 10, false)));
        for (int i = 0; i < 3; i++) {
            try (RawClient c = new RawClient(server.localAddress())) {
                assertThat(c.reply()).startsWith("220");
                c.send("QUIT\r\n");
                assertThat(c.reply()).startsWith("221");
                assertThat(c.closedByServer()).isTrue();
            }
            awaitOpenSessions(0);
        }
    }

    @Test
    void connectionOverPerClientLimitGets421() throws IOException {
        start(TestConfigs.relay(TestConfigs.withConnections(TestConfigs.smtp(), 10, 1, true)));
        try (RawClient a = new RawClient(server.localAddress())) {
            assertThat(a.reply()).startsWith("220");
            try (RawClient b = new RawClient(server.localAddress())) {
                assertThat(b.reply()).startsWith("421 4.7.0");
            }
        }
        assertThat(server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS_FROM_CLIENT)).isEqualTo(1);
    }

    @Test
    void mynetworksAreExemptFromPerClientLimitByDefault() throws IOException {
        start(TestConfigs.relay(TestConfigs.withConnections(TestConfigs.smtp(), 10, 1, false)));
        try (RawClient a = new RawClient(server.localAddress()); RawClient b = new RawClient(server.localAddress())) {
            assertThat(a.reply()).startsWith("220");
            assertThat(b.reply()).startsWith("220");
        }
    }

    @Test
    void earlyTalkerOutsideMynetworksGets554AndClose() throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ofMillis(300), Duration.ofSeconds(30),
                Duration.ofSeconds(30));
        start(TestConfigs.relay(s, List.of()));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.send("EHLO eager.example\r\n");
            assertThat(c.reply()).isEqualTo("554 5.5.1 Protocol error: client talked before greeting");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(server.stats().rejections(RejectReason.EARLY_TALKER)).isEqualTo(1);
    }

    @Test
    void patientClientOutsideMynetworksIsGreetedAfterDelay() throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ofMillis(200), Duration.ofSeconds(30),
                Duration.ofSeconds(30));
        start(TestConfigs.relay(s, List.of()));
        try (RawClient c = new RawClient(server.localAddress())) {
            assertThat(c.reply()).startsWith("220 tern.test");
        }
    }

    @Test
    void clientOutsideMynetworksCannotRelay() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp(), List.of()));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            assertThat(c.reply()).startsWith("250 2.1.0");
            assertThat(c.reply()).isEqualTo("554 5.7.1 Relay access denied");
            assertThat(c.reply()).startsWith("554 5.5.1 No valid recipients");
        }
        assertThat(journal.stored()).isEmpty();
    }

    @Test
    void idleClientGets421TimeoutAndClose() throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ZERO, Duration.ofMillis(200),
                Duration.ofSeconds(30));
        start(TestConfigs.relay(s));
        try (RawClient c = new RawClient(server.localAddress())) {
            assertThat(c.reply()).startsWith("220");
            c.send("EHLO me.example\r\n");
            c.reply();
            assertThat(c.reply()).isEqualTo("421 4.4.2 Timeout exceeded, closing connection");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(server.stats().rejections(RejectReason.TIMEOUT)).isEqualTo(1);
    }

    @Test
    void stalledDataGets421AndNothingIsStored() throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ZERO, Duration.ofSeconds(30),
                Duration.ofMillis(200));
        start(TestConfigs.relay(s));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            for (int i = 0; i < 4; i++) {
                c.reply();
            }
            c.send("partial content\r\n");
            assertThat(c.reply()).startsWith("421 4.4.2");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(journal.stored()).isEmpty();
    }

    @Test
    void closeTellsConnectedClientsShutdown421() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\n");
            c.reply();
            server.close();
            assertThat(c.reply()).isEqualTo("421 4.3.2 Service shutting down, closing connection");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void journalFailureAnswers451AndSessionKeepsServing() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\n");
            c.reply();
            journal.failCommits(true);
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            c.reply();
            c.reply();
            c.send("x\r\n.\r\n");
            assertThat(c.reply()).isEqualTo("451 4.3.0 Local error in processing, try again later");
            journal.failCommits(false);
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            c.reply();
            c.reply();
            c.send("x\r\n.\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        assertThat(journal.stored()).hasSize(1);
        assertThat(server.stats().rejections(RejectReason.LOCAL_ERROR)).isEqualTo(1);
    }

    @Test
    void idleSessionsHoldOnlyTheirTwoSmallCommandBuffers() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                RawClient c = new RawClient(server.localAddress());
                clients.add(c);
                assertThat(c.reply()).startsWith("220");
            }
            // 10,000 idle sessions must fit well under 1 GiB: each holds 2 x 4 KiB direct, no 64 KiB body chunk.
            assertThat(server.commandBuffers().bufferSize()).isEqualTo(4096);
            assertThat(server.commandBuffers().outstanding()).isEqualTo(200);
            assertThat(server.bodyBuffers().outstanding()).isZero();
        } finally {
            for (RawClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    void refusesToStartWithUnusableHostname() {
        SmtpSettings s = TestConfigs.smtp();
        SmtpSettings bad = new SmtpSettings("bad host", s.maxCommandLine(), s.maxMessageSize(), s.maxDataLine(),
                s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(), s.limitMynetworks(),
                s.maxErrors(), s.pregreetDelay(), s.commandTimeout(), s.dataTimeout(), s.bareLineEndings());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SmtpServer.start(TestConfigs.relay(bad), journal))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hostname");
    }

    @Test
    void messageBeyondBodyBufferMemoryGets452AndLaterSmallMessagesPass() throws IOException {
        SmtpSettings s = TestConfigs.withMaxMessageSize(TestConfigs.smtp(), 4 << 20);
        SmtpSettings small = new SmtpSettings(s.hostname(), s.maxCommandLine(), s.maxMessageSize(), s.maxDataLine(),
                s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(), s.limitMynetworks(),
                s.maxErrors(), s.pregreetDelay(), s.commandTimeout(), s.dataTimeout(), s.bareLineEndings(),
                3 * SmtpServer.BODY_CHUNK);
        start(TestConfigs.relay(small));
        try (RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO me.example\r\n");
            c.reply();
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            c.reply();
            assertThat(c.reply()).startsWith("354");
            c.send(("y".repeat(98) + "\r\n").repeat(5000) + ".\r\n");
            assertThat(c.reply()).isEqualTo("452 4.3.1 Insufficient system storage");
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            c.reply();
            c.reply();
            c.reply();
            c.send("small\r\n.\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0 Ok: queued as");
        }
        assertThat(journal.stored()).hasSize(1);
    }

    @Test
    void statsCountSessions() throws IOException {
        start(TestConfigs.relay(TestConfigs.smtp()));
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                RawClient c = new RawClient(server.localAddress());
                clients.add(c);
                c.reply();
            }
            assertThat(server.stats().sessionsOpen()).isEqualTo(3);
        } finally {
            for (RawClient c : clients) {
                c.close();
            }
        }
        awaitOpenSessions(0);
        assertThat(server.stats().sessionsTotal()).isEqualTo(3);
    }

    private void awaitOpenSessions(long n) {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (server.stats().sessionsOpen() != n && System.nanoTime() < end) {
            Thread.onSpinWait();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        assertThat(server.stats().sessionsOpen()).isEqualTo(n);
    }
}

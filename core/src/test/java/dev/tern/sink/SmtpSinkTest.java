package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.sink.ReceivedMessage.StampCheck;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SmtpSinkTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private final List<SmtpSink> sinks = new ArrayList<>();

    private SmtpSink start(SinkSettings.Builder settings) throws Exception {
        SmtpSink sink = SmtpSink.start(settings.build());
        sinks.add(sink);
        return sink;
    }

    private SmtpSink keeping() throws Exception {
        return start(SinkSettings.builder().keepMessages(true));
    }

    @AfterEach
    void closeSinks() {
        sinks.forEach(SmtpSink::close);
    }

    static String stamped(String headers, String body) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
        return new TernStamp(TernStamp.nowMicros(), digest).headerLine() + headers + "\r\n" + body;
    }

    private static void transaction(SmtpTestClient c, String wireContent) throws Exception {
        assertThat(c.command("MAIL FROM:<a@client.test>").code()).isEqualTo(250);
        assertThat(c.command("RCPT TO:<b@sink.test>").code()).isEqualTo(250);
        assertThat(c.command("DATA").code()).isEqualTo(354);
        c.send(wireContent + ".\r\n");
    }

    @Test
    void acceptsMessageFromPythonSmtplib() throws Exception {
        SmtpSink sink = keeping();
        String script = """
                import smtplib, sys
                s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
                s.sendmail('alice@client.test', ['bob@sink.test', 'carol@sink.test'],
                           'Subject: hi\\r\\n\\r\\n.dot line\\r\\nbye\\r\\n')
                s.quit()
                """;
        Process p = new ProcessBuilder("python3", "-c", script, String.valueOf(sink.localAddress().getPort()))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();

        assertThat(sink.awaitMessages(1, WAIT)).isTrue();
        ReceivedMessage m = sink.received().getFirst();
        assertThat(m.mailFrom()).isEqualTo("alice@client.test");
        assertThat(m.recipients()).containsExactly("bob@sink.test", "carol@sink.test");
        assertThat(m.contentText()).isEqualTo("Subject: hi\r\n\r\n.dot line\r\nbye\r\n");
        assertThat(m.stamp()).isEqualTo(StampCheck.ABSENT);
    }

    @Test
    void verifiesMatchingStampAndRecordsLatency() throws Exception {
        SmtpSink sink = keeping();
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, stamped("Subject: s\r\n", "line one\r\nline two\r\n"));
            SmtpTestClient.Reply r = c.reply();
            assertThat(r.code()).isEqualTo(250);
            assertThat(r.text()).containsPattern("queued as [0-9A-F]{16}");
        }
        SinkStats stats = sink.stats();
        assertThat(stats.stamped()).isEqualTo(1);
        assertThat(stats.integrityFailures()).isZero();
        assertThat(stats.latencyMicros().getTotalCount()).isEqualTo(1);
        assertThat(sink.received().getFirst().stamp()).isEqualTo(StampCheck.VALID);
    }

    @Test
    void countsIntegrityFailureWhenBodyDiffersFromStamp() throws Exception {
        SmtpSink sink = keeping();
        String message = stamped("Subject: s\r\n", "original body\r\n").replace("original", "altered");
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, message);
            assertThat(c.reply().code()).isEqualTo(250);
        }
        assertThat(sink.stats().integrityFailures()).isEqualTo(1);
        assertThat(sink.received().getFirst().stamp()).isEqualTo(StampCheck.MISMATCH);
    }

    @Test
    void hashesTheBodyAfterDotUnstuffing() throws Exception {
        SmtpSink sink = keeping();
        String body = ".starts with a dot\r\n..two dots\r\nend\r\n";
        String wire = stamped("Subject: s\r\n", body).replace("\r\n.", "\r\n..");
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, wire);
            assertThat(c.reply().code()).isEqualTo(250);
        }
        ReceivedMessage m = sink.received().getFirst();
        assertThat(m.stamp()).isEqualTo(StampCheck.VALID);
        assertThat(m.contentText()).endsWith("\r\n\r\n" + body);
    }

    @Test
    void bareLfDotLfDoesNotEndData() throws Exception {
        SmtpSink sink = keeping();
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Subject: s\r\n\r\nbefore\n.\nMAIL FROM:<smuggled@x>\r\n");
            assertThat(c.reply().code()).isEqualTo(250);
        }
        assertThat(sink.stats().messages()).isEqualTo(1);
        assertThat(sink.received().getFirst().contentText()).contains("before\n.\nMAIL FROM:<smuggled@x>\r\n");
    }

    @Test
    void answersAPipelinedTransactionSentInOneWrite() throws Exception {
        SmtpSink sink = keeping();
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.send("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n");
            assertThat(List.of(c.reply().code(), c.reply().code(), c.reply().code(), c.reply().code()))
                    .containsExactly(250, 250, 250, 354);
            c.send("Subject: p\r\n\r\nx\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<d@y>\r\nRSET\r\n");
            assertThat(List.of(c.reply().code(), c.reply().code(), c.reply().code(), c.reply().code()))
                    .containsExactly(250, 250, 250, 250);
        }
        assertThat(sink.stats().messages()).isEqualTo(1);
        assertThat(sink.received().getFirst().recipients()).containsExactly("b@y", "c@y");
    }

    @Test
    void receivesAMessageInBdatChunks() throws Exception {
        SmtpSink sink = keeping();
        String message = stamped("Subject: b\r\n", "chunked\r\n.not stuffed\r\n");
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        int half = bytes.length / 2;
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            c.command("RCPT TO:<b@y>");
            c.send("BDAT " + half + "\r\n" + message.substring(0, half));
            assertThat(c.reply().text()).startsWith("250 2.0.0 " + half + " octets received");
            c.send("BDAT " + (bytes.length - half) + " LAST\r\n" + message.substring(half));
            assertThat(c.reply().text()).contains("queued as");
        }
        ReceivedMessage m = sink.received().getFirst();
        assertThat(m.chunked()).isTrue();
        assertThat(m.contentText()).isEqualTo(message);
        assertThat(m.stamp()).isEqualTo(StampCheck.VALID);
    }

    @Test
    void refusesBdatAndOmitsChunkingWhenDisabled() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().chunking(false).pipelining(false));
        try (SmtpTestClient c = new SmtpTestClient(sink.localAddress())) {
            c.expect(220);
            String ehlo = c.command("EHLO me").text();
            assertThat(ehlo).doesNotContain("CHUNKING").doesNotContain("PIPELINING").contains("8BITMIME");
            c.command("MAIL FROM:<a@x>");
            c.command("RCPT TO:<b@y>");
            assertThat(c.command("BDAT 3 LAST").code()).isEqualTo(502);
        }
    }

    @Test
    void tempfailsEveryRecipientWhenTheRatioIsOne() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().tempfailRcptRatio(1.0));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            assertThat(c.command("RCPT TO:<b@y>").code()).isEqualTo(451);
            assertThat(c.command("RCPT TO:<c@y>").code()).isEqualTo(451);
            assertThat(c.command("DATA").code()).isEqualTo(554);
        }
        assertThat(sink.stats().replies(451)).isEqualTo(2);
    }

    @Test
    void rejectsAtEndOfDataWhenTheRatioIsOne() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().rejectDataRatio(1.0));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Subject: r\r\n\r\nx\r\n");
            assertThat(c.reply().code()).isEqualTo(550);
            assertThat(c.command("NOOP").code()).isEqualTo(250);
        }
        assertThat(sink.stats().messages()).isZero();
        assertThat(sink.stats().failedMessages()).isEqualTo(1);
    }

    @Test
    void tempfailsAtEndOfDataWhenTheRatioIsOne() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().tempfailDataRatio(1.0));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Subject: r\r\n\r\nx\r\n");
            assertThat(c.reply().code()).isEqualTo(451);
        }
        assertThat(sink.stats().messages()).isZero();
    }

    @Test
    void disconnectsInTheMiddleOfDataWhenTheRatioIsOne() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().disconnectDataRatio(1.0));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            c.command("RCPT TO:<b@y>");
            c.command("DATA");
            c.send("Subject: cut\r\n\r\npartial");
            assertThat(c.reply().code()).isEqualTo(-1);
        }
        assertThat(sink.stats().injectedDisconnects()).isEqualTo(1);
        assertThat(sink.stats().messages()).isZero();
    }

    @Test
    void failsRecipientsChosenByLocalPart() throws Exception {
        SmtpSink sink = start(SinkSettings.builder());
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            assertThat(c.command("RCPT TO:<tempfail-1@y>").code()).isEqualTo(451);
            assertThat(c.command("RCPT TO:<reject-2@y>").code()).isEqualTo(550);
            assertThat(c.command("RCPT TO:<fine@y>").code()).isEqualTo(250);
        }
        assertThat(sink.stats().recipients()).isEqualTo(1);
    }

    @Test
    void sameSeedGivesTheSameRecipientFaults() throws Exception {
        List<Integer> first = rcptCodes(start(SinkSettings.builder().seed(42).tempfailRcptRatio(0.3)
                .rejectRcptRatio(0.3)));
        List<Integer> second = rcptCodes(start(SinkSettings.builder().seed(42).tempfailRcptRatio(0.3)
                .rejectRcptRatio(0.3)));
        assertThat(first).isEqualTo(second).contains(250, 451, 550);
    }

    private static List<Integer> rcptCodes(SmtpSink sink) throws Exception {
        List<Integer> codes = new ArrayList<>();
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            for (int i = 0; i < 40; i++) {
                codes.add(c.command("RCPT TO:<r" + i + "@y>").code());
            }
        }
        return codes;
    }

    @Test
    void delaysSlowReplies() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().slowReplies(1.0, Duration.ofMillis(150)));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            long start = System.nanoTime();
            assertThat(c.command("NOOP").code()).isEqualTo(250);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(140));
        }
    }

    @Test
    void refusesADeclaredSizeOverTheLimit() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().sizeLimit(1000));
        try (SmtpTestClient c = new SmtpTestClient(sink.localAddress())) {
            c.expect(220);
            assertThat(c.command("EHLO me").text()).contains("SIZE 1000");
            assertThat(c.command("MAIL FROM:<a@x> SIZE=2000").code()).isEqualTo(552);
            assertThat(c.command("MAIL FROM:<a@x> SIZE=500").code()).isEqualTo(250);
        }
    }

    @Test
    void refusesAMessageThatGrowsPastTheLimit() throws Exception {
        SmtpSink sink = start(SinkSettings.builder().sizeLimit(100));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Subject: big\r\n\r\n" + "x".repeat(200) + "\r\n");
            assertThat(c.reply().code()).isEqualTo(552);
        }
    }

    @Test
    void answersAnOverlongLineAndKeepsServing() throws Exception {
        SmtpSink sink = start(SinkSettings.builder());
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            assertThat(c.command("NOOP " + "x".repeat(100_000)).code()).isEqualTo(500);
            assertThat(c.command("NOOP").code()).isEqualTo(250);
        }
    }

    @Test
    void rejectsCommandsOutOfSequence() throws Exception {
        SmtpSink sink = start(SinkSettings.builder());
        try (SmtpTestClient c = new SmtpTestClient(sink.localAddress())) {
            c.expect(220);
            assertThat(c.command("MAIL FROM:<a@x>").code()).isEqualTo(503);
            c.command("HELO me");
            assertThat(c.command("RCPT TO:<b@y>").code()).isEqualTo(503);
            assertThat(c.command("DATA").code()).isEqualTo(503);
            assertThat(c.command("WHAT").code()).isEqualTo(500);
            assertThat(c.command("QUIT").code()).isEqualTo(221);
        }
    }

    @Test
    void acceptsSpacesAfterTheColonOfMailAndRcpt() throws Exception {
        SmtpSink sink = keeping();
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            assertThat(c.command("MAIL FROM: <a@x>").code()).isEqualTo(250);
            assertThat(c.command("rcpt to: <b@y>").code()).isEqualTo(250);
            assertThat(c.command("DATA").code()).isEqualTo(354);
            c.send("Subject: s\r\n\r\nx\r\n.\r\n");
            assertThat(c.reply().code()).isEqualTo(250);
        }
        assertThat(sink.received().getFirst().recipients()).containsExactly("b@y");
    }

    @Test
    void appendsTheMessageIdOfEachAcceptedMessage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path ids = dir.resolve("delivered.txt");
        java.nio.file.Files.writeString(ids, "<earlier@run>\n");
        SmtpSink sink = start(SinkSettings.builder().messageIdsFile(ids));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Message-ID:\r\n <one@test>\r\nSubject: a\r\n\r\nx\r\n");
            assertThat(c.reply().code()).isEqualTo(250);
            transaction(c, "Subject: no id\r\n\r\nMessage-ID: <not-a-header@test>\r\n");
            assertThat(c.reply().code()).isEqualTo(250);
            c.command("MAIL FROM:<a@x>");
            assertThat(c.command("RCPT TO:<reject-1@y>").code()).isEqualTo(550);
        }
        sink.close();
        assertThat(java.nio.file.Files.readAllLines(ids)).containsExactly("<earlier@run>", "<one@test>", "-");
    }

    @Test
    void awaitMessagesGivesUpAtTheTimeout() throws Exception {
        SmtpSink sink = start(SinkSettings.builder());
        assertThat(sink.awaitMessages(1, Duration.ofMillis(50))).isFalse();
    }

    @Test
    void passesEachAcceptedMessageToTheListener() throws Exception {
        List<ReceivedMessage> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        SmtpSink sink = start(SinkSettings.builder().listener(seen::add));
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            transaction(c, "Subject: l\r\n\r\nx\r\n");
            assertThat(c.reply().code()).isEqualTo(250);
        }
        assertThat(seen).singleElement().extracting(ReceivedMessage::mailFrom).isEqualTo("a@client.test");
        assertThat(sink.received()).isEmpty();
    }

    @Test
    void closeEndsOpenConnections() throws Exception {
        SmtpSink sink = SmtpSink.start(SinkSettings.defaults());
        try (SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            sink.close();
            assertThat(c.reply().code()).isEqualTo(-1);
        }
        assertThat(sink.stats().activeConnections()).isZero();
        assertThat(sink.stats().connections()).isEqualTo(1);
    }
}

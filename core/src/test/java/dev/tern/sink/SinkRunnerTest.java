package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class SinkRunnerTest {

    @Test
    void stopsAfterTheRequestedMessagesAndPrintsASummary() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        SinkSettings settings = SinkSettings.builder().listen(new dev.tern.config.HostPort("127.0.0.1", port)).build();
        CompletableFuture<SinkStats> run = CompletableFuture.supplyAsync(() -> {
            try {
                return SinkRunner.run(settings, Duration.ofSeconds(10), 2, out);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        for (int i = 0; i < 2; i++) {
            SmtpTestClient c = connectWhenUp(port);
            try (c) {
                c.expect(220);
                c.command("EHLO me");
                c.command("MAIL FROM:<a@x>");
                c.command("RCPT TO:<b@y>");
                c.command("DATA");
                c.send(SmtpSinkTest.stamped("Subject: r\r\n", "x\r\n") + ".\r\n");
                assertThat(c.reply().code()).isEqualTo(250);
            }
        }
        SinkStats stats = run.get();

        assertThat(stats.messages()).isEqualTo(2);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("tern sink listening on 127.0.0.1:" + port).contains("messages accepted: 2")
                .contains("integrity failures: 0");
    }

    @Test
    void jsonSummaryCarriesTheCounters() throws Exception {
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults());
             SmtpTestClient c = SmtpTestClient.greeted(sink)) {
            c.command("MAIL FROM:<a@x>");
            c.command("RCPT TO:<reject-me@y>");
            String json = SinkReport.json(sink.stats());

            assertThat(json).contains("\"connections\": 1").contains("\"550\": 1").contains("\"messages\": 0");
        }
    }

    private static SmtpTestClient connectWhenUp(int port) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return new SmtpTestClient(new java.net.InetSocketAddress("127.0.0.1", port));
            } catch (java.io.IOException e) {
                if (attempt > 100) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}

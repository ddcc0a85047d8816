package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.HostPort;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The generator against a real peer: Postfix's smtp-sink (PIPELINING, no CHUNKING). */
@Timeout(30)
class PostfixSmtpSinkTest {
    private static final Path SMTP_SINK = Path.of("/usr/sbin/smtp-sink");

    @Test
    void deliversToPostfixSmtpSinkAndFallsBackToDataWithoutChunking() throws Exception {
        assumeTrue(Files.isExecutable(SMTP_SINK), "Postfix smtp-sink is not installed (.ci/install-peers does)");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(SMTP_SINK.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "nobody")); // smtp-sink refuses to run as root without -u
        }
        command.addAll(List.of("127.0.0.1:" + port, "64"));
        Process sink = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitListening(port);
            LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", port)).connections(4)
                    .messages(200).bdat(true).size(SizeDistribution.parse("3k")).build());

            assertThat(r.acknowledged()).isEqualTo(200);
            assertThat(r.errorCount()).isZero();
            assertThat(r.summary(Phase.DATA).count()).isEqualTo(200);
            assertThat(r.summary(Phase.BDAT_LAST).count()).isZero();
            assertThat(r.replies(354)).isEqualTo(200);
        } finally {
            sink.destroy();
            sink.waitFor();
        }
    }

    private static void awaitListening(int port) throws InterruptedException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException e) {
                Thread.sleep(30);
            }
        }
        throw new AssertionError("smtp-sink did not start listening on port " + port);
    }
}

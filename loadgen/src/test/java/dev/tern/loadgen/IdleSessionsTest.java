package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.HostPort;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SmtpSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class IdleSessionsTest {

    @Test
    void holdsIdleSessionsOpenWhileMeasuringNewOnes() throws Exception {
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults())) {
            LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", sink.localAddress().getPort()))
                    .connections(2).messages(40).messagesPerConnection(5).idleConnections(150)
                    .idleKeepAlive(Duration.ofMillis(100)).build());

            assertThat(r.idle()).isEqualTo(new LoadReport.Idle(150, 150, 0, 0));
            assertThat(r.acknowledged()).isEqualTo(40);
            assertThat(r.summary(Phase.CONNECT).count()).isEqualTo(r.connections()).isGreaterThanOrEqualTo(8);
            assertThat(sink.stats().connections()).isEqualTo(150 + r.connections());
        }
    }

    @Test
    void countsIdleSessionsTheServerDrops() throws Exception {
        try (ServerSocket server = new ServerSocket(0)) {
            Thread.ofVirtual().start(() -> greetThenHangUp(server));
            LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", server.getLocalPort()))
                    .connections(1).messages(1).idleConnections(5).build());

            assertThat(r.idle().established()).isEqualTo(5);
            assertThat(r.idle().dropped()).isEqualTo(5);
        }
    }

    /** Greets each client, answers its EHLO, then closes the session after a moment. */
    private static void greetThenHangUp(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        OutputStream out = s.getOutputStream();
                        out.write("220 test\r\n".getBytes(StandardCharsets.US_ASCII));
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                                .readLine();
                        out.write("250 test\r\n".getBytes(StandardCharsets.US_ASCII));
                        Thread.sleep(300);
                    } catch (Exception e) {
                        // The client went away first: nothing to do.
                    }
                });
            } catch (Exception e) {
                return;
            }
        }
    }
}

package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class SinkThreadsTest {
    @Test
    void servesConnectionsBeyondThePlatformThreadLimit() throws Exception {
        List<SmtpTestClient> clients = new ArrayList<>();
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults())) {
            try {
                for (int i = 0; i <= SmtpSink.PLATFORM_THREAD_LIMIT; i++) {
                    SmtpTestClient c = new SmtpTestClient(sink.localAddress());
                    clients.add(c);
                    c.expect(220);
                }
                SmtpTestClient last = clients.getLast();
                assertThat(last.command("EHLO client.test").code()).isEqualTo(250);
                assertThat(last.command("QUIT").code()).isEqualTo(221);
                assertThat(sink.stats().connections()).isEqualTo(SmtpSink.PLATFORM_THREAD_LIMIT + 1);
            } finally {
                for (SmtpTestClient c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void releasesThePlatformThreadOfAClosedConnection() throws Exception {
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults())) {
            try (SmtpTestClient a = new SmtpTestClient(sink.localAddress());
                 SmtpTestClient b = new SmtpTestClient(sink.localAddress())) {
                a.expect(220);
                b.expect(220);
                assertThat(sink.platformThreadsInUse()).isEqualTo(2);
                assertThat(a.command("QUIT").code()).isEqualTo(221);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (sink.platformThreadsInUse() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(sink.platformThreadsInUse()).isZero();
        }
    }
}

package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Postfix's smtp-source as a real, concurrent, pipelining client: every message it sends is stored once. */
class PostfixSmtpSourceTest {

    @Test
    void concurrentSessionsDeliverEveryMessage() throws Exception {
        MemoryJournal journal = new MemoryJournal();
        try (SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal)) {
            // -s 8 parallel sessions, -m 400 messages, -r 2 recipients each, -l 4096 octets, -d pipelined (no
            // per-command wait); -c prints a count.
            ExternalProcess r = ExternalProcess.run(List.of("smtp-source", "-s", "8", "-m", "400", "-r", "2",
                    "-l", "4096", "-d", "-f", "source@example.org", "-t", "sink@example.net", "-M", "source.example",
                    "127.0.0.1:" + server.localAddress().getPort()), null);
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(journal.stored()).hasSize(400);
            assertThat(journal.stored()).allSatisfy(m -> assertThat(m.envelope().recipients()).hasSize(2));
            assertThat(server.stats().messagesAccepted()).isEqualTo(400);
            server.close();
            assertThat(server.outstandingBuffers()).isZero();
        }
    }
}

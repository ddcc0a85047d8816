package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.JournalSettings;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.QueueId;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real clients against the real journal: what was answered 250 is pending in ChronicleJournal, bodies intact. */
class ChronicleRelayTest {
    @TempDir
    Path dir;

    @Test
    void smtpSourceMessagesArePendingInTheJournal() throws Exception {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, JournalSettings.defaults());
             SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal)) {
            ExternalProcess r = ExternalProcess.run(List.of("smtp-source", "-s", "8", "-m", "300", "-l", "2048", "-d",
                    "-f", "source@example.org", "-t", "sink@example.net", "-M", "source.example",
                    "127.0.0.1:" + server.localAddress().getPort()), null);
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(journal.pending()).hasSize(300);
            assertThat(journal.stats().messagesCommitted()).isEqualTo(300);
        }
    }

    @Test
    void smtplibMessageIsStoredWithTraceHeaderFirst() throws Exception {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, JournalSettings.defaults());
             SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal)) {
            ExternalProcess r = ExternalProcess.run(List.of("python3", "-c", """
                    import smtplib
                    s = smtplib.SMTP('127.0.0.1', %d, timeout=10)
                    s.ehlo('py.example')
                    s.sendmail('alice@example.org', ['bob@example.net'], 'Subject: durable\\r\\n\\r\\nkept\\r\\n')
                    s.quit()
                    """.formatted(server.localAddress().getPort())), null);
            assertThat(r.exitCode()).as(r.output()).isZero();
            QueuedMessage m = journal.pending().get(0);
            assertThat(m.envelope().sender()).isEqualTo("alice@example.org");
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            journal.readBody(m.queueId(), piece -> {
                byte[] b = new byte[piece.remaining()];
                piece.duplicate().get(b);
                body.writeBytes(b);
            });
            assertThat(body.toString(StandardCharsets.US_ASCII))
                    .startsWith("Received: from py.example ([127.0.0.1])\r\n")
                    .contains(" id " + QueueId.format(m.queueId()) + "\r\n")
                    .endsWith("Subject: durable\r\n\r\nkept\r\n");
            assertThat(m.bodyLength()).isEqualTo(body.size());
        }
    }
}

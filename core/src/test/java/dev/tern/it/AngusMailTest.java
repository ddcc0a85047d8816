package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import jakarta.mail.Message;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Jakarta Mail (Eclipse Angus) in-process as a real client. */
class AngusMailTest {
    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            assertThat(server.outstandingBuffers()).isZero();
        }
    }

    private Session mailSession() {
        Properties p = new Properties();
        p.put("mail.smtp.host", "127.0.0.1");
        p.put("mail.smtp.port", Integer.toString(server.localAddress().getPort()));
        p.put("mail.smtp.localhost", "angus.example");
        p.put("mail.smtp.timeout", "10000");
        p.put("mail.smtp.connectiontimeout", "10000");
        p.put("mail.mime.allowutf8", "true");
        return Session.getInstance(p);
    }

    private MimeMessage message(Session s, String to, String text) throws Exception {
        MimeMessage m = new MimeMessage(s);
        m.setFrom(new InternetAddress("alice@example.org"));
        m.setRecipients(Message.RecipientType.TO, InternetAddress.parse(to));
        m.setSubject("from angus");
        m.setText(text, "UTF-8");
        return m;
    }

    @Test
    void sendsMessageThatIsStoredIntact() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal);
        Transport.send(message(mailSession(), "bob@example.net", "line one\n.line two\nGr\u00fc\u00dfe\n"));
        assertThat(journal.stored()).hasSize(1);
        String body = journal.stored().get(0).bodyText();
        assertThat(body).contains("Subject: from angus\r\n").contains("\r\n.line two\r\n");
        assertThat(journal.stored().get(0).envelope().helo()).isEqualTo("angus.example");
    }

    @Test
    void relayDeniedOutsideMynetworksSurfacesAsSendFailure() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp(), List.of()), journal);
        Session s = mailSession();
        assertThatThrownBy(() -> Transport.send(message(s, "bob@example.net", "x")))
                .isInstanceOf(SendFailedException.class)
                .hasStackTraceContaining("554 5.7.1 Relay access denied");
        assertThat(journal.stored()).isEmpty();
    }
}

package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Python's smtplib as a real client: sendmail, BDAT through its low-level calls, SIZE refusal, pipelined errors. */
class PythonSmtplibTest {
    private final MemoryJournal journal = new MemoryJournal();
    private SmtpServer server;

    @BeforeEach
    void start() throws Exception {
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal);
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(server.outstandingBuffers()).isZero();
    }

    private ExternalProcess python(String script) throws Exception {
        String prelude = "import smtplib, sys\nPORT = " + server.localAddress().getPort() + "\n";
        return ExternalProcess.run(List.of("python3", "-c", prelude + script), null);
    }

    @Test
    void sendmailDeliversOneMessageWithBothRecipients() throws Exception {
        ExternalProcess r = python("""
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)
                s.ehlo('py.example')
                assert s.has_extn('pipelining') and s.has_extn('chunking') and s.has_extn('smtputf8')
                refused = s.sendmail('alice@example.org', ['bob@example.net', 'carol@example.net'],
                                     'Subject: py\\r\\n\\r\\nhello from python\\r\\n.starts with dot\\r\\n')
                print('REFUSED', refused)
                s.quit()
                """);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("REFUSED {}");
        assertThat(journal.stored()).hasSize(1);
        MemoryJournal.Stored m = journal.stored().get(0);
        assertThat(m.envelope().recipients()).hasSize(2);
        assertThat(m.bodyText()).endsWith("Subject: py\r\n\r\nhello from python\r\n.starts with dot\r\n");
    }

    @Test
    void bdatChunksFromLowLevelCallsMakeOneMessage() throws Exception {
        ExternalProcess r = python("""
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)
                s.ehlo('py.example')
                print(s.mail('alice@example.org'))
                print(s.rcpt('bob@example.net'))
                part1 = b'Subject: chunked\\r\\n\\r\\n'
                part2 = b'line one\\r\\nline two\\r\\n'
                s.send(b'BDAT %d\\r\\n' % len(part1) + part1)
                print('C1', s.getreply())
                s.send(b'BDAT %d LAST\\r\\n' % len(part2) + part2)
                code, msg = s.getreply()
                print('C2', code, msg.decode())
                s.quit()
                """);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("C1 (250").containsPattern("C2 250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        assertThat(journal.stored()).hasSize(1);
        assertThat(journal.stored().get(0).bodyText()).endsWith("Subject: chunked\r\n\r\nline one\r\nline two\r\n");
    }

    @Test
    void declaredSizeOverLimitIsRefusedWith552() throws Exception {
        ExternalProcess r = python("""
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)
                s.ehlo('py.example')
                print('LIMIT', s.esmtp_features['size'])
                code, msg = s.mail('alice@example.org', ['SIZE=999999999'])
                print('MAIL', code, msg.decode())
                s.quit()
                """);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("LIMIT 100000").contains("MAIL 552 5.3.4");
    }

    @Test
    void oversizedContentIsRefusedAndSessionStaysUsable() throws Exception {
        ExternalProcess r = python("""
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)
                s.ehlo('py.example')
                s.mail('alice@example.org')  # no SIZE= declared, so the limit is found in the content
                s.rcpt('bob@example.net')
                code, msg = s.data('x' * 200 + '\\r\\n' + ('y' * 998 + '\\r\\n') * 200)
                print('DATA', code, msg.decode())
                print('NOOP', s.noop()[0])
                s.quit()
                """);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("DATA 552 5.3.4").contains("NOOP 250");
        assertThat(journal.stored()).isEmpty();
    }

    @Test
    void utf8AddressesAreAcceptedWithSmtputf8() throws Exception {
        ExternalProcess r = python("""
                s = smtplib.SMTP('127.0.0.1', PORT, timeout=10)
                s.ehlo('py.example')
                s.sendmail('j\\u00f6rg@example.org', ['m\\u00fcller@example.net'],
                           'Subject: utf8\\r\\n\\r\\ngr\\u00fc\\u00dfe\\r\\n'.encode('utf-8'),
                           mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
                print('SENT')
                s.quit()
                """);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(journal.stored()).hasSize(1);
        assertThat(journal.stored().get(0).envelope().sender()).isEqualTo("j\u00f6rg@example.org");
        assertThat(journal.stored().get(0).envelope().recipients().get(0).address())
                .isEqualTo("m\u00fcller@example.net");
        assertThat(journal.stored().get(0).bodyText()).contains("with UTF8SMTP id");
    }
}

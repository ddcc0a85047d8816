package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.Cidr;
import dev.tern.message.EnvelopeRecord;
import dev.tern.session.MemoryJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** swaks as a real client, with and without PIPELINING. */
class SwaksTest {
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

    private ExternalProcess swaks(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("swaks", "--server", "127.0.0.1", "--port",
                Integer.toString(server.localAddress().getPort()), "--helo", "swaks.example",
                "--from", "alice@example.org", "--timeout", "10"));
        cmd.addAll(List.of(extra));
        return ExternalProcess.run(cmd, null);
    }

    @Test
    void deliversPlainTransaction() throws Exception {
        ExternalProcess r = swaks("--to", "bob@example.net", "--body", "hello from swaks");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).containsPattern("<-  250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        assertThat(journal.stored()).hasSize(1);
        assertThat(journal.stored().get(0).bodyText()).contains("hello from swaks");
    }

    @Test
    void deliversPipelinedTransactionWithSeveralRecipients() throws Exception {
        ExternalProcess r = swaks("--pipeline", "--to", "bob@example.net,carol@example.net,dave@example.net",
                "--body", "pipelined");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(journal.stored()).hasSize(1);
        assertThat(journal.stored().get(0).envelope().recipients()).hasSize(3);
    }

    /**
     * RFC 5321 4.5.1: with postmaster-address set, a client outside mynetworks reaches {@code <Postmaster>} (and
     * only it); the journal holds the configured mailbox.
     */
    @Test
    void clientOutsideMynetworksReachesPostmasterOnly() throws Exception {
        server.close();
        server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp().withPostmaster("hostmaster@ops.example"),
                List.of(Cidr.parse("10.0.0.0/8"))), journal);
        ExternalProcess r = swaks("--to", "PostMaster", "--body", "a question for the postmaster");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(journal.stored()).hasSize(1);
        assertThat(journal.stored().getFirst().envelope().recipients()).singleElement()
                .extracting(EnvelopeRecord.Recipient::address).isEqualTo("hostmaster@ops.example");
        ExternalProcess denied = swaks("--to", "bob@example.net", "--body", "relay me");
        assertThat(denied.exitCode()).isNotZero();
        assertThat(denied.output()).contains("<** 554 5.7.1 Relay access denied");
        assertThat(journal.stored()).hasSize(1);
    }

    @Test
    void quitAfterRcptLeavesNothingQueued() throws Exception {
        ExternalProcess r = swaks("--to", "bob@example.net", "--quit-after", "RCPT");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("<-  221 2.0.0 Bye");
        assertThat(journal.stored()).isEmpty();
    }
}

package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import dev.tern.session.MemoryJournal;
import dev.tern.session.RawClient;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SMTP smuggling (CVE-2023-51764 family) end to end over a socket: a fake end-of-data followed by a second
 * transaction, then the real CRLF.CRLF. The server must answer exactly once for the content (and never see a
 * second message): 550 under REJECT, one 250 under NORMALIZE.
 */
class SmugglingEndToEndTest {
    private static final String SMUGGLED = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
            + "Subject: smuggled\r\n\r\nsmuggled\r\n";

    /** Fake terminators, written with \\r and \\n escapes; each goes between "hi" and the smuggled commands. */
    @ParameterizedTest(name = "REJECT {0}")
    @ValueSource(strings = {"\\n.\\n", "\\n.\\r\\n", "\\r\\n.\\n", "\\r.\\r", "\\r.\\r\\n", "\\r\\n.\\r",
            "\\r.\\n", "\\n.\\r", "\\r\\n.\\n\\r\\n", "\\n\\n.\\n\\n"})
    void fakeTerminatorIsContentAndMessageIsRefused(String variant) throws Exception {
        List<String> replies = smuggle(LineEndingPolicy.REJECT, variant);
        assertThat(replies).containsExactly(
                "550 5.6.0 Message content rejected: bare <LF> or <CR> in content, use <CR><LF>", "221 2.0.0 Bye");
        assertThat(stored).isEmpty();
    }

    @ParameterizedTest(name = "NORMALIZE {0}")
    @ValueSource(strings = {"\\n.\\n", "\\n.\\r\\n", "\\r\\n.\\n", "\\r.\\r", "\\r.\\r\\n", "\\r\\n.\\r", "\\r.\\n"})
    void fakeTerminatorIsContentOfOneMessageWhenNormalizing(String variant) throws Exception {
        List<String> replies = smuggle(LineEndingPolicy.NORMALIZE, variant);
        assertThat(replies).hasSize(2);
        assertThat(replies.get(0)).matches("250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}");
        assertThat(replies.get(1)).isEqualTo("221 2.0.0 Bye");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).bodyText()).contains("MAIL FROM:<evil@example.org>");
        assertThat(stored.get(0).envelope().sender()).isEqualTo("alice@example.org");
    }

    @ParameterizedTest(name = "NUL {0}")
    @ValueSource(strings = {"\\r\\n.\\0\\r\\n", "\\r\\n\\0.\\r\\n"})
    void nulNextToDotDoesNotEndData(String variant) throws Exception {
        List<String> replies = smuggle(LineEndingPolicy.REJECT, variant);
        assertThat(replies).hasSize(2).last().isEqualTo("221 2.0.0 Bye");
        assertThat(stored).hasSizeLessThanOrEqualTo(1);
        if (!stored.isEmpty()) {
            assertThat(stored.get(0).envelope().sender()).isEqualTo("alice@example.org");
        }
    }

    private List<MemoryJournal.Stored> stored = List.of();

    private List<String> smuggle(LineEndingPolicy policy, String variant) throws Exception {
        MemoryJournal journal = new MemoryJournal();
        List<String> after = new ArrayList<>();
        SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.withPolicy(TestConfigs.smtp(), policy)),
                journal);
        try (server; RawClient c = new RawClient(server.localAddress())) {
            c.reply();
            c.send("EHLO attacker.example\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n");
            assertThat(c.reply()).startsWith("250-");
            assertThat(c.reply()).startsWith("250 2.1.0");
            assertThat(c.reply()).startsWith("250 2.1.5");
            assertThat(c.reply()).startsWith("354");
            c.send("Subject: hi\r\n\r\nhi" + unescape(variant) + SMUGGLED + ".\r\nQUIT\r\n");
            String r;
            while ((r = c.reply()) != null) {
                after.add(r);
            }
        }
        assertThat(server.outstandingBuffers()).as("buffers after close").isZero();
        stored = journal.stored();
        return after;
    }

    private static String unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\0", "\0");
    }
}

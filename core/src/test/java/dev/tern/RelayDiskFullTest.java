package dev.tern;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import dev.tern.journal.JournalReader;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.QueueId;
import dev.tern.testing.SmallTmpfs;
import dev.tern.testing.SmtpTestClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk is a local, temporary failure: SMTP answers 451 4.3.0 (never 5xx), the session and the server keep
 * serving, and once space returns the same connection gets 250 again, with nothing acknowledged lost. The journal
 * lives on a real, small tmpfs that the test fills up.
 */
class RelayDiskFullTest {
    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9A-F]{16})");

    @TempDir
    Path tmp;

    private SmallTmpfs tmpfs;

    @AfterEach
    void unmount() throws Exception {
        if (tmpfs != null) {
            tmpfs.close();
        }
    }

    @Test
    void fullDiskAnswers451ThenRecoversWithoutRestart() throws Exception {
        Path fs = Files.createDirectory(tmp.resolve("fs"));
        tmpfs = SmallTmpfs.mount(fs, 32);
        RelayConfig config = ConfigLoader.load(null, Map.of("listen", "127.0.0.1:0",
                "data-dir", fs.resolve("data").toString(), "delivery", "false",
                "journal-max-record-bytes", "512k", "max-message-size", "256k"));
        List<Long> acknowledged = new ArrayList<>();
        String body = "Subject: filler\r\n\r\n" + "x".repeat(998) + "\r\n";
        try (Tern tern = Tern.launch(config);
             SmtpTestClient c = new SmtpTestClient(tern.smtpAddress(), 20_000)) {
            SmtpTestClient.expect(c.read(), 220);
            SmtpTestClient.expect(c.command("EHLO disk.test"), 250);
            acknowledged.add(queued(c.sendMail("a@example.org", List.of("b@example.com"), body)));

            Path filler = tmpfs.fill("filler");

            SmtpTestClient.Reply failure = null;
            String big = "Subject: big\r\n\r\n" + ("y".repeat(998) + "\r\n").repeat(100);
            for (int i = 0; i < 200 && failure == null; i++) {
                SmtpTestClient.Reply r = c.sendMail("a@example.org", List.of("b@example.com"), big);
                if (r.code() == 250) {
                    acknowledged.add(queued(r));
                } else {
                    failure = r;
                }
            }
            assertThat(failure).as("a reply other than 250 once the disk is full").isNotNull();
            assertThat(failure.code()).as(failure.toString()).isEqualTo(451);
            assertThat(failure.text()).startsWith("4.3.0");

            assertThat(c.command("NOOP").code()).as("the session still serves").isEqualTo(250);
            try (SmtpTestClient other = new SmtpTestClient(tern.smtpAddress(), 20_000)) {
                assertThat(other.read().code()).as("the server still greets").isEqualTo(220);
            }

            Files.delete(filler);
            SmtpTestClient.Reply again = c.sendMail("a@example.org", List.of("b@example.com"), big);
            assertThat(again.code()).as("after space returns: " + again).isEqualTo(250);
            acknowledged.add(queued(again));
        }
        List<Long> stored = JournalReader.open(fs.resolve("data"), config.journal()).pending().stream()
                .map(QueuedMessage::queueId).toList();
        assertThat(stored).as("every acknowledged message, once").containsAll(acknowledged)
                .doesNotHaveDuplicates();
    }

    private static long queued(SmtpTestClient.Reply r) {
        Matcher m = QUEUED.matcher(r.text());
        assertThat(m.find()).as(r.toString()).isTrue();
        return QueueId.parse(m.group(1));
    }
}

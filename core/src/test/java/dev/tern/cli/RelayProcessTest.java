package dev.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.testing.ChildRelay;
import dev.tern.testing.SmtpTestClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tern relay} as an operator runs it (a real child process started through the CLI), and {@code tern queue}
 * acting on it through the admin socket: list, show, stats, delete, flush; then a clean SIGTERM stop and
 * {@code tern queue list} reading the journal offline.
 */
class RelayProcessTest {
    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9A-F]{16})");

    @TempDir
    Path dir;

    @Test
    void queueCommandsActOnTheRunningRelayThenOnTheJournal() throws Exception {
        Path data = dir.resolve("data");
        String first;
        String second;
        // Delivery to a closed port: the messages stay queued (deferred) for the queue commands to see.
        try (ChildRelay relay = ChildRelay.start(data, "--smarthost", "127.0.0.1:9", "--retry-schedule", "1h")) {
            try (SmtpTestClient c = new SmtpTestClient(relay.address(), 10_000)) {
                SmtpTestClient.expect(c.read(), 220);
                SmtpTestClient.expect(c.command("EHLO ops.test"), 250);
                first = queueId(c.sendMail("alice@example.org", List.of("bob@example.com"),
                        "Subject: first\r\n\r\nhello\r\n"));
                second = queueId(c.sendMail("carol@example.org", List.of("dan@example.net", "erin@example.net"),
                        "Subject: second\r\n\r\nhello again\r\n"));
            }
            Result list = queue(data, "list");
            assertThat(list.code).isZero();
            assertThat(list.out).contains(first, second, "alice@example.org", "dan@example.net,erin@example.net",
                    "2 message(s) queued");

            Result show = queue(data, "show", second);
            assertThat(show.code).isZero();
            assertThat(show.out).contains("id:        " + second, "sender:    carol@example.org",
                    "recipient: erin@example.net", "Subject: second", "Received: from ops.test");

            Result stats = queue(data, "stats");
            assertThat(stats.code).isZero();
            assertThat(stats.out).contains("journal: 2 queued");

            assertThat(queue(data, "delete", first).code).isZero();
            assertThat(queue(data, "list").out).doesNotContain(first).contains(second);
            assertThat(queue(data, "flush").code).isZero();
            assertThat(queue(data, "show", "0000000000000000").code).isEqualTo(1);

            // The JVM reports SIGTERM as 143 once the shutdown hook has closed the relay.
            assertThat(relay.stop(Duration.ofSeconds(30))).as("exit code after SIGTERM").isIn(0, 143);
        }
        Result offline = queue(data, "list");
        assertThat(offline.code).isZero();
        assertThat(offline.out).contains(second, "1 message(s) queued").doesNotContain(first);
        Result offlineShow = queue(data, "show", second);
        assertThat(offlineShow.out).contains("Subject: second");
        assertThat(queue(data, "flush").code).as("flush needs a running relay").isEqualTo(1);
    }

    private record Result(int code, String out) {
    }

    private static Result queue(Path data, String... args) {
        String[] full = new String[args.length + 3];
        full[0] = "queue";
        full[1] = "--data-dir";
        full[2] = data.toString();
        System.arraycopy(args, 0, full, 3, args.length);
        StringWriter out = new StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute(full);
        return new Result(code, out.toString());
    }

    private static String queueId(SmtpTestClient.Reply r) {
        Matcher m = QUEUED.matcher(r.text());
        assertThat(r.code()).as(r.toString()).isEqualTo(250);
        assertThat(m.find()).as(r.toString()).isTrue();
        return m.group(1);
    }
}

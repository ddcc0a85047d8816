package dev.tern;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.admin.AdminServer;
import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import dev.tern.testing.SmtpTestClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelayLaunchTest {
    @TempDir
    Path tmp;

    @Test
    void aDataDirTooDeepForAUnixSocketStillServesMail() throws Exception {
        Path deep = tmp.resolve("d".repeat(60)).resolve("e".repeat(60)).resolve("data");
        RelayConfig config = ConfigLoader.load(null, Map.of("listen", "127.0.0.1:0", "data-dir", deep.toString(),
                "delivery", "false"));
        try (Tern tern = Tern.launch(config);
             SmtpTestClient c = new SmtpTestClient(tern.smtpAddress(), 10_000)) {
            SmtpTestClient.expect(c.read(), 220);
            SmtpTestClient.expect(c.command("EHLO deep.test"), 250);
            SmtpTestClient.Reply r = c.sendMail("a@example.org", List.of("b@example.com"), "Subject: x\r\n\r\nx\r\n");
            assertThat(r.code()).isEqualTo(250);
            // The admin socket may or may not fit; asking it must answer or say "no relay", never fail.
            Optional<List<String>> stats = AdminServer.request(deep, "stats");
            stats.ifPresent(lines -> assertThat(lines).last().isEqualTo("OK"));
        }
    }
}

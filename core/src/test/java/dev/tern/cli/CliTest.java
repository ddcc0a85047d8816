package dev.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.Setting;
import dev.tern.config.Settings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void helpListsEverySubcommand() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("relay", "queue", "sink", "test", "bench", "dkim-keygen");
    }

    @Test
    void everySubcommandHasHelp() {
        for (String sub : Main.commandLine().getSubcommands().keySet()) {
            out.getBuffer().setLength(0);
            assertThat(run(sub, "--help")).as("%s --help", sub).isZero();
            assertThat(out.toString()).as("%s --help", sub).startsWith("Usage: tern " + sub);
        }
    }

    @Test
    void relayHelpShowsEverySettingAsAFlagWithItsDefault() {
        assertThat(run("relay", "--help")).isZero();
        for (Setting s : Settings.ALL) {
            assertThat(out.toString()).contains("--" + s.name());
        }
        assertThat(out.toString()).contains("--config").contains("(default: 127.0.0.1:2525)");
    }

    @Test
    void printConfigMergesFileAndFlags() throws Exception {
        Path conf = dir.resolve("tern.conf");
        Files.writeString(conf, "max-recipients = 7\nsmarthost = 127.0.0.1:2600\n");
        int code = run("relay", "--config", conf.toString(), "--listen", "127.0.0.1:2601", "--route",
                "example.com=127.0.0.1:2602", "--durability", "os", "--print-config");
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("listen = 127.0.0.1:2601", "max-recipients = 7",
                "smarthost = 127.0.0.1:2600", "route.example.com = 127.0.0.1:2602", "durability = os");
    }

    @Test
    void badSettingsAreAllReportedWithExitCode2() {
        int code = run("relay", "--listen", "nowhere", "--max-recipients", "lots", "--durability", "maybe");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--listen", "--max-recipients", "--durability");
    }

    @Test
    void unknownFlagIsAClearError() {
        assertThat(run("relay", "--no-such-flag")).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option: '--no-such-flag'");
    }

    @Test
    void queueShowRejectsAMalformedId() {
        assertThat(run("queue", "--data-dir", dir.toString(), "show", "xyz")).isEqualTo(2);
    }
}

package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.cli.TernSubcommand;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SmtpSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class LoadgenCommandTest {
    @TempDir
    Path dir;

    @Test
    void isRegisteredAsATernSubcommand() {
        assertThat(ServiceLoader.load(TernSubcommand.class).stream().map(ServiceLoader.Provider::type))
                .contains(LoadgenCommand.class);
    }

    @Test
    void runsAgainstASinkAndWritesTheReportFiles() throws Exception {
        try (SmtpSink sink = SmtpSink.start(SinkSettings.defaults())) {
            int exit = new CommandLine(new LoadgenCommand()).execute("--target",
                    "127.0.0.1:" + sink.localAddress().getPort(), "-n", "25", "-c", "2", "--size", "lognormal:2k,0.5",
                    "--quiet", "--json", "--fail-on-error", "--out", dir.toString(), "--ids",
                    dir.resolve("ids.txt").toString());

            assertThat(exit).isZero();
            assertThat(sink.stats().messages()).isEqualTo(25);
        }
        assertThat(dir.resolve("report.json")).exists();
        assertThat(dir.resolve("report.html")).exists();
        assertThat(dir.resolve("latency.hlog")).exists();
        assertThat(dir.resolve("message.hgrm")).exists();
        assertThat(Files.readAllLines(dir.resolve("ids.txt"))).hasSize(25);
    }

    @Test
    void buildsTheSpecFromOptions() {
        LoadgenCommand command = new LoadgenCommand();
        new CommandLine(command).parseArgs("-t", "[::1]:2525", "-c", "50", "-d", "2m", "-r", "1000", "--rcpts", "3",
                "--no-pipelining", "--bdat", "--warmup-time", "500ms", "-s", "1k-64k");
        LoadSpec spec = command.toSpec();

        assertThat(spec.target().host()).isEqualTo("::1");
        assertThat(spec.connections()).isEqualTo(50);
        assertThat(spec.duration()).isEqualTo(Duration.ofMinutes(2));
        assertThat(spec.messages()).isEqualTo(LoadSpec.DEFAULT_MESSAGE_CAP);
        assertThat(spec.openLoop()).isTrue();
        assertThat(spec.recipients()).isEqualTo(3);
        assertThat(spec.pipelining()).isFalse();
        assertThat(spec.bdat()).isTrue();
        assertThat(spec.warmupTime()).isEqualTo(Duration.ofMillis(500));
        assertThat(spec.size()).isEqualTo(new SizeDistribution.Uniform(1024, 64 * 1024));
    }

    @Test
    void rejectsADurationNotWrittenAsSettingsAreWithAUsageError() {
        java.io.StringWriter err = new java.io.StringWriter();
        int exit = new CommandLine(new LoadgenCommand()).setErr(new java.io.PrintWriter(err))
                .execute("-t", "127.0.0.1:25", "-d", "1.5m");

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("expected a duration like 500ms, 30s, 5m, 1h or 5d, got '1.5m'");
    }

    @Test
    void rejectsAnInvalidSizeWithAUsageError() {
        int exit = new CommandLine(new LoadgenCommand()).setErr(new java.io.PrintWriter(java.io.Writer.nullWriter()))
                .execute("-t", "127.0.0.1:25", "-s", "huge");

        assertThat(exit).isEqualTo(2);
    }

    @Test
    void readsTheStartTlsModeInAnyCaseAndNamesTheChoicesWhenItIsWrong() {
        LoadgenCommand command = new LoadgenCommand();
        new CommandLine(command).parseArgs("-t", "127.0.0.1:25", "--starttls", "Required");
        assertThat(command.toSpec().startTls()).isEqualTo(StartTls.REQUIRED);
        assertThat(command.toSpec().tlsTrust()).isNull();

        java.io.StringWriter err = new java.io.StringWriter();
        int exit = new CommandLine(new LoadgenCommand()).setErr(new java.io.PrintWriter(err))
                .execute("-t", "127.0.0.1:25", "--starttls", "always");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--starttls must be never, offered or required: always");
    }

    @Test
    void refusesATrustFileItCannotReadOrWithoutStartTls() throws Exception {
        java.io.StringWriter err = new java.io.StringWriter();
        int exit = new CommandLine(new LoadgenCommand()).setErr(new java.io.PrintWriter(err))
                .execute("-t", "127.0.0.1:25", "--starttls", "required", "--tls-trust",
                        dir.resolve("none.pem").toString());
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--tls-trust: cannot read");

        Path pem = Files.writeString(dir.resolve("ca.pem"), "not used");
        err = new java.io.StringWriter();
        exit = new CommandLine(new LoadgenCommand()).setErr(new java.io.PrintWriter(err))
                .execute("-t", "127.0.0.1:25", "--tls-trust", pem.toString());
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("a TLS trust file needs STARTTLS (offered or required)");
    }
}

package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The peer-comparison tooling under {@code bench/peers/} is part of the suite: its Python helpers' own tests (the
 * report's tables, ratios and disk comparison; the CPU and memory readings) pass, and the driver script parses.
 */
class PeerScriptTest {
    private static final Path PEERS = Path.of("..", "bench", "peers").toAbsolutePath().normalize();

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(PEERS.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished in time").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void reportAndProcessStatisticsHelpersPassTheirTests() throws Exception {
        String out = run(List.of("python3", "-m", "unittest", "-v", "test_peers.py"));
        assertThat(out).containsPattern("test_large_scenario_is_read_against_the_disk .*\\.\\.\\. ok").endsWith("OK\n");
    }

    @Test
    void compareScriptIsValidBash() throws Exception {
        run(List.of("bash", "-n", "compare.sh"));
    }
}

package dev.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code tern} launcher script picks a JDK 25+ by itself, says what to install when there is none, and builds what
 * is stale once however many launches ask for it at the same moment.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "tern").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result launch(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_HOME");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out.trim(), err);
    }

    @Test
    void findsTheRunningJdkWhenJavaHomeIsTooOld() throws Exception {
        Path jdks = fakeJdkDir();
        Result r = launch(Map.of("JAVA_HOME", fakeJdk(dir.resolve("old"), 17).toString(),
                "TERN_JDK_DIRS", jdks.toString()), "--which-java");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Path.of(r.out())).isEqualTo(jdks.resolve("current"));
    }

    @Test
    void prefersJavaHomeWhenItIsNewEnough() throws Exception {
        Path home = Path.of(System.getProperty("java.home"));
        Result r = launch(Map.of("JAVA_HOME", home.toString(), "TERN_JDK_DIRS", fakeJdkDir().toString()),
                "--which-java");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Path.of(r.out())).isEqualTo(home);
    }

    @Test
    void explainsWhatToInstallWhenNoJdk25IsFound() throws Exception {
        Path only17 = Files.createDirectories(dir.resolve("jvms"));
        fakeJdk(only17.resolve("jdk17"), 17);
        Result r = launch(Map.of("TERN_JDK_DIRS", only17.toString()), "--version");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("needs a JDK 25 or newer", "found: 17", "JAVA_HOME");
    }

    /**
     * Two launches of a checkout that needs building (say {@code ./tern sink &} and {@code ./tern relay} after a pull)
     * run one Maven between them, not two over the same target folders. The checkout is a copy of the launcher with a
     * fake {@code mvn} that notes when it runs and whether another one is running.
     */
    @Test
    void concurrentLaunchesOfAStaleCheckoutBuildOnceAtATime() throws Exception {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(LAUNCHER, root.resolve("tern"));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        for (String module : List.of("core", "loadgen", "bench")) {
            Files.createDirectories(root.resolve(module));
        }
        Files.writeString(root.resolve("core/jvm.options"), "-Xss1m\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path log = dir.resolve("mvn.log");
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, """
                #!/bin/sh
                if [ -e "$MARK" ]; then echo overlap >> "$LOG"; fi
                touch "$MARK"; echo start >> "$LOG"
                sleep 2
                mkdir -p loadgen/target/lib
                rm -f "$MARK"; echo end >> "$LOG"
                """);
        mvn.toFile().setExecutable(true);
        Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"),
                "PATH", bin + ":" + System.getenv("PATH"), "LOG", log.toString(),
                "MARK", dir.resolve("mvn.running").toString());
        List<Process> launches = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("tern").toString(), "--version")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("launch" + i + ".out").toFile());
            pb.environment().putAll(env);
            launches.add(pb.start());
        }
        for (Process p : launches) {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        // The fake build makes no classes, so each launch then fails to start Java; what matters is the build.
        assertThat(Files.readAllLines(log)).containsExactly("start", "end");
        String both = Files.readString(dir.resolve("launch0.out")) + Files.readString(dir.resolve("launch1.out"));
        assertThat(both).containsOnlyOnce("tern: building");
    }

    /** A folder holding {@code current} (a link to the JDK running this test) and an old fake JDK. */
    private Path fakeJdkDir() throws IOException {
        Path jdks = Files.createDirectories(dir.resolve("jdks-" + System.nanoTime()));
        Files.createSymbolicLink(jdks.resolve("current"), Path.of(System.getProperty("java.home")));
        fakeJdk(jdks.resolve("legacy"), 11);
        return jdks;
    }

    /** A directory whose bin/java and bin/javac report {@code version}, like a real JDK of that version. */
    private static Path fakeJdk(Path home, int version) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        for (String tool : List.of("java", "javac")) {
            Path f = bin.resolve(tool);
            Files.writeString(f, "#!/bin/sh\necho '    java.specification.version = " + version + "' >&2\n");
            f.toFile().setExecutable(true);
        }
        return home;
    }
}

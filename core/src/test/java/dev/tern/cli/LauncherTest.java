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

/** The {@code tern} launcher script picks a JDK 25+ by itself, and says what to install when there is none. */
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

package dev.tern.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tern relay} in a real child JVM (same java, classpath and JVM access flags as the test JVM), for tests that
 * must {@code kill -9} it. The child's stderr goes to a log file next to its data directory.
 */
public final class ChildRelay implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]*?/?([0-9.]+):(\\d+)");

    private final Process process;
    private final InetSocketAddress address;

    private ChildRelay(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
    }

    /** Starts {@code tern relay --listen 127.0.0.1:0 --data-dir DIR ARGS...} and waits for it to listen. */
    public static ChildRelay start(Path dataDir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc")
                    || a.startsWith("-Dchronicle")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.tern.cli.Main");
        cmd.add("relay");
        cmd.add("--listen");
        cmd.add("127.0.0.1:0");
        cmd.add("--data-dir");
        cmd.add(dataDir.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(
                        dataDir.resolveSibling(dataDir.getFileName() + "-relay.log").toFile()))
                .start();
        CompletableFuture<InetSocketAddress> listening = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            InetSocketAddress a = listening.get(60, TimeUnit.SECONDS);
            if (a == null) {
                throw new IOException("relay exited before listening (exit " + p.waitFor() + ")");
            }
            return new ChildRelay(p, a);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new IOException("relay did not start listening within 60 s", e);
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    /** SIGKILL: no shutdown hook, no flush, nothing. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM and wait for a clean stop. */
    public int stop(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill9();
        }
    }
}

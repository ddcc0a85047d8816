package dev.tern.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A private Postfix instance for interoperability tests ({@code postfix -c DIR}): its own config, queue and data
 * directories under one world-traversable temp directory, no chroot, smtpd on a loopback port, and a transport map
 * sending each test domain to a fixed {@code [127.0.0.1]:port}. Never touches the system instance. Needs root (the
 * data directory must belong to the postfix user). Shared with the load generator's tests through core's test jar.
 */
public final class PrivatePostfix implements AutoCloseable {
    private static final String[] SERVICES = {
        "pickup    unix  n  -  n  60     1  pickup",
        "cleanup   unix  n  -  n  -      0  cleanup",
        "qmgr      unix  n  -  n  300    1  qmgr",
        "rewrite   unix  -  -  n  -      -  trivial-rewrite",
        "bounce    unix  -  -  n  -      0  bounce",
        "defer     unix  -  -  n  -      0  bounce",
        "trace     unix  -  -  n  -      0  bounce",
        "verify    unix  -  -  n  -      1  verify",
        "flush     unix  n  -  n  1000?  0  flush",
        "proxymap  unix  -  -  n  -      -  proxymap",
        "smtp      unix  -  -  n  -      -  smtp",
        "relay     unix  -  -  n  -      -  smtp",
        "showq     unix  n  -  n  -      -  showq",
        "error     unix  -  -  n  -      -  error",
        "retry     unix  -  -  n  -      -  error",
        "discard   unix  -  -  n  -      -  discard",
        "anvil     unix  -  -  n  -      1  anvil",
        "scache    unix  -  -  n  -      1  scache",
        "postlog   unix-dgram n  -  n  -  1  postlogd",
        "tlsmgr    unix  -  -  n  1000?  1  tlsmgr",
    };

    private final Path dir;
    private final int port;

    private PrivatePostfix(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/sbin/postfix")) && "root".equals(System.getProperty("user.name"));
    }

    /** Starts an instance relaying {@code domain -> 127.0.0.1:port} for every entry of {@code transports}. */
    public static PrivatePostfix start(Map<String, Integer> transports) throws IOException, InterruptedException {
        return start(transports, Map.of());
    }

    /**
     * Starts an instance relaying {@code domain -> 127.0.0.1:port} for every entry of {@code transports}, with
     * {@code settings} added to (or replacing lines of) its main.cf, such as {@code smtpd_tls_security_level}.
     */
    public static PrivatePostfix start(Map<String, Integer> transports, Map<String, String> settings)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "tern-postfix-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("queue"));
        run(List.of("chown", "postfix", data.toString()));
        int port = freePort();
        String map = transports.entrySet().stream()
                .map(e -> e.getKey() + "=smtp:[127.0.0.1]:" + e.getValue())
                .collect(Collectors.joining(", ", "inline:{ ", " }"));
        List<String> lines = List.of(
                "compatibility_level = 3.6",
                "queue_directory = " + dir.resolve("queue"),
                "data_directory = " + data,
                "mail_owner = postfix",
                "setgid_group = postdrop",
                "inet_interfaces = 127.0.0.1",
                "inet_protocols = ipv4",
                "myhostname = postfix.test",
                "mydomain = postfix.test",
                "myorigin = postfix.test",
                "mydestination = ",
                "mynetworks = 127.0.0.0/8",
                "transport_maps = " + map,
                "alias_maps = ",
                "alias_database = ",
                "smtp_tls_security_level = none",
                "smtpd_tls_security_level = none",
                "disable_dns_lookups = yes",
                "smtp_host_lookup = native",
                "maillog_file = " + dir.resolve("postfix.log"),
                "maillog_file_prefixes = /tmp",
                "queue_run_delay = 1s",
                "minimal_backoff_time = 1s",
                "maximal_backoff_time = 2s",
                "biff = no");
        // The caller's settings replace the defaults' lines rather than follow them, so postfix has nothing to warn of.
        Map<String, String> mainCf = new LinkedHashMap<>();
        for (String line : lines) {
            int eq = line.indexOf(" = ");
            mainCf.put(line.substring(0, eq), line.substring(eq + 3));
        }
        mainCf.putAll(settings);
        StringBuilder cf = new StringBuilder();
        mainCf.forEach((k, v) -> cf.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(etc.resolve("main.cf"), cf);
        Files.writeString(etc.resolve("master.cf"), "127.0.0.1:" + port + " inet n - n - - smtpd\n"
                + String.join("\n", SERVICES) + "\n");
        run(List.of("/usr/sbin/postfix", "-c", etc.toString(), "start"));
        PrivatePostfix p = new PrivatePostfix(dir, port);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return p;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        p.close();
        throw new IOException("private postfix did not start; see " + dir.resolve("postfix.log"));
    }

    public int port() {
        return port;
    }

    public String log() throws IOException {
        Path log = dir.resolve("postfix.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The directory holding this instance's config, queue, data and log. */
    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("/usr/sbin/postfix", "-c", dir.resolve("etc").toString(), "stop"));
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
    }
}

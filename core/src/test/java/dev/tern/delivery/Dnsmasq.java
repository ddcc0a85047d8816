package dev.tern.delivery;

import dev.tern.config.HostPort;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private dnsmasq on a loopback UDP port for MX tests: authoritative for {@code .test} (unknown names answer
 * NXDOMAIN), everything else REFUSED (no upstream), records given on the command line.
 */
final class Dnsmasq implements AutoCloseable {
    private final Process process;
    private final int port;

    private Dnsmasq(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static boolean available() {
        return Files.isExecutable(Path.of("/usr/sbin/dnsmasq"));
    }

    /** Starts on a free port; retries a few times, as a port free for UDP may be taken for TCP (dnsmasq binds both). */
    static Dnsmasq start(List<String> records) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                return startOnce(records);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private static Dnsmasq startOnce(List<String> records) throws IOException, InterruptedException {
        int port;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             java.net.ServerSocket tcp = new java.net.ServerSocket(probe.getLocalPort(), 1,
                     InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of("/usr/sbin/dnsmasq", "--no-daemon", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--pid-file=", "--local=/test/", "--user=root"));
        cmd.addAll(records);
        Path log = Files.createTempFile("dnsmasq", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Dnsmasq d = new Dnsmasq(p, port);
        // Ready once it answers a query (bounded: 5 s).
        MxResolver probe = new MxResolver(java.util.Optional.of(d.hostPort()), 25, java.time.Duration.ofMillis(200),
                System::currentTimeMillis);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end && p.isAlive()) {
            Route r = probe.resolve("ready-probe.test");
            if (r instanceof Route.Unroutable u && u.reply().permanentFailure()) {
                Files.deleteIfExists(log);
                return d;
            }
            Thread.sleep(50);
        }
        d.close();
        String why = Files.readString(log);
        Files.deleteIfExists(log);
        throw new IOException("dnsmasq did not start on port " + port + ": " + why);
    }

    HostPort hostPort() {
        return new HostPort("127.0.0.1", port);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}

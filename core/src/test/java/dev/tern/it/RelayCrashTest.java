package dev.tern.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.JournalSettings;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.QueuedMessage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's promise end to end: a 250 means the message survives {@code kill -9}. A child JVM runs SmtpServer on
 * ChronicleJournal; clients record every queue id answered 250 (with a token in its body); the child is killed
 * mid-load (SIGKILL); the journal reopened in this JVM must hold every acknowledged message exactly once, intact.
 * Several rounds on the same directory, so recovery after a crash is itself crashed.
 */
class RelayCrashTest {
    private static final int ROUNDS = 3;
    private static final int CLIENTS = 8;
    private static final long LOAD_MILLIS = 1000;
    private static final int MIN_ACKS_PER_ROUND = 100;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedMessageSurvivesKill9ExactlyOnce() throws Exception {
        Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            Process child = startChild();
            try {
                int port = readPort(child);
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    String prefix = "r" + round + "c" + c;
                    clients.add(Thread.ofVirtual().start(() -> sendUntilCut(port, prefix, acknowledged)));
                }
                // Kill mid-load: once this round has had some acknowledgements (bounded wait), at a random moment.
                int before = acknowledged.size();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (acknowledged.size() - before < MIN_ACKS_PER_ROUND && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                Thread.sleep(ThreadLocalRandom.current().nextLong(LOAD_MILLIS));
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, nothing
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                for (Thread t : clients) {
                    assertThat(t.join(java.time.Duration.ofSeconds(30))).isTrue();
                }
            } finally {
                child.destroyForcibly();
            }
            assertThat(acknowledged).as("round %d made progress", round).isNotEmpty();
            verify(acknowledged, round);
            System.out.println("RelayCrashTest round " + round + ": " + acknowledged.size()
                    + " acknowledged, all present");
        }
    }

    private void verify(Map<Long, String> acknowledged, int round) throws Exception {
        try (ChronicleJournal journal = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            Map<Long, Long> counts = journal.pending().stream()
                    .collect(Collectors.groupingBy(QueuedMessage::queueId, Collectors.counting()));
            for (Map.Entry<Long, String> e : acknowledged.entrySet()) {
                assertThat(counts.get(e.getKey())).as("round %d: acknowledged %016X present once", round, e.getKey())
                        .isEqualTo(1L);
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                journal.readBody(e.getKey(), piece -> {
                    byte[] b = new byte[piece.remaining()];
                    piece.duplicate().get(b);
                    body.writeBytes(b);
                });
                assertThat(body.toString(StandardCharsets.US_ASCII)).as("body of %016X", e.getKey())
                        .contains("token " + e.getValue() + "\r\n").endsWith("end " + e.getValue() + "\r\n");
            }
        }
    }

    /** One connection, messages back to back, until the child dies. */
    private static void sendUntilCut(int port, String prefix, Map<Long, String> acknowledged) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            reply(in);
            out.write("EHLO crash.example\r\n".getBytes(StandardCharsets.US_ASCII));
            reply(in);
            for (int n = 0; n < 1_000_000; n++) {
                String token = prefix + "n" + n;
                String body = "Subject: " + token + "\r\n\r\ntoken " + token + "\r\n"
                        + "filler line to make the body a little longer than a header\r\n".repeat(n % 40)
                        + "end " + token + "\r\n.\r\n";
                out.write(("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                reply(in);
                reply(in);
                if (!reply(in).startsWith("354")) {
                    return;
                }
                out.write(body.getBytes(StandardCharsets.US_ASCII));
                String done = reply(in);
                if (!done.startsWith("250 ")) {
                    return;
                }
                acknowledged.put(Long.parseUnsignedLong(done.substring(done.length() - 16), 16), token);
            }
        } catch (IOException e) {
            // the child was killed: expected
        }
    }

    private static String reply(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed");
            }
            if (c == '\n') {
                String l = line.toString().strip();
                if (l.length() >= 4 && l.charAt(3) == '-') {
                    line.setLength(0);
                    continue;
                }
                return l;
            }
            line.append((char) c);
        }
    }

    private Process startChild() throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The same Chronicle access flags surefire gave this JVM.
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("--enable-native-access")
                    || arg.startsWith("--sun-misc-unsafe") || arg.startsWith("-Dchronicle.")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), RelayChild.class.getName(),
                dir.toString(), "120000"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static int readPort(Process child) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        StringBuilder seen = new StringBuilder();
        while (System.nanoTime() < end && (line = r.readLine()) != null) {
            if (line.startsWith("PORT ")) {
                Thread.ofVirtual().start(() -> drain(r)); // keep the child's stdout from filling up
                return Integer.parseInt(line.substring(5).trim());
            }
            seen.append(line).append('\n');
        }
        throw new IOException("child did not start:\n" + seen);
    }

    private static void drain(BufferedReader r) {
        try {
            while (r.readLine() != null) {
                // discard
            }
        } catch (IOException e) {
            // child gone
        }
    }
}

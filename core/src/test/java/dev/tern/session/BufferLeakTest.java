package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Thousands of sessions that vanish at random points (mid-command, mid-DATA, mid-BDAT, after QUIT; FIN or RST):
 * afterwards every pooled buffer is home. The seed is printed so a failure can be replayed.
 */
class BufferLeakTest {
    private static final int SESSIONS = 2000;
    private static final int CONCURRENCY = 48;

    @Test
    void everyBufferReturnsAfterRandomDisconnects() throws Exception {
        long seed = System.nanoTime();
        System.out.println("BufferLeakTest seed=" + seed);
        Random random = new Random(seed);
        byte[] script = script();
        MemoryJournal journal = new MemoryJournal();
        BufferPool commands = new BufferPool(SmtpServer.commandBufferSize(TestConfigs.smtp()), 64, 512);
        BufferPool bodies = new BufferPool(SmtpServer.BODY_CHUNK, 16, 512);
        AtomicInteger failures = new AtomicInteger();
        try (SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal, commands, bodies)) {
            Semaphore inFlight = new Semaphore(CONCURRENCY);
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < SESSIONS; i++) {
                    int cut = random.nextInt(script.length + 1);
                    boolean reset = random.nextInt(4) == 0;
                    int pause = random.nextInt(5);
                    inFlight.acquire();
                    clients.submit(() -> {
                        try {
                            talkAndVanish(server, script, cut, reset, pause);
                        } catch (IOException | InterruptedException e) {
                            failures.incrementAndGet(); // the server may close first (e.g. after QUIT): fine
                        } finally {
                            inFlight.release();
                        }
                    });
                }
                clients.shutdown();
                assertThat(clients.awaitTermination(90, TimeUnit.SECONDS)).as("clients finished").isTrue();
            }
            awaitNoSessions(server, Duration.ofSeconds(20));
            System.out.println("BufferLeakTest " + server.stats() + " client errors=" + failures.get());
            // A connection reset before the listener admits it never becomes a session.
            assertThat(server.stats().sessionsTotal()).isBetween(SESSIONS / 2L, (long) SESSIONS);
            assertThat(server.outstandingBuffers()).as("outstanding buffers, seed " + seed).isZero();
            assertThat(journal.stored()).as("whole messages were accepted").isNotEmpty();
        }
        assertThat(commands.outstanding() + bodies.outstanding()).isZero();
    }

    /**
     * Writes the script up to {@code cut}, then either half-closes (FIN: the server sees end of input exactly at the
     * cut, after handling everything before it) and reads until the server closes, or resets the connection (RST)
     * after a short random pause, wherever the server happens to be.
     */
    private static void talkAndVanish(SmtpServer server, byte[] script, int cut, boolean reset, int pauseMillis)
            throws IOException, InterruptedException {
        try (Socket s = new Socket(server.localAddress().getAddress(), server.localAddress().getPort())) {
            s.setSoTimeout(10_000);
            Thread reader = Thread.ofVirtual().start(() -> drain(s));
            OutputStream out = s.getOutputStream();
            out.write(script, 0, cut);
            out.flush();
            if (reset) {
                Thread.sleep(pauseMillis);
                s.setSoLinger(true, 0);
                s.close();
            } else {
                s.shutdownOutput();
            }
            reader.join(15_000);
        }
    }

    private static void drain(Socket s) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = s.getInputStream();
            while (in.read(buf) >= 0) {
                // replies are not checked here: only that every buffer comes home
            }
        } catch (IOException e) {
            // reset or closed by us: the session is over either way
        }
    }

    /** A pipelined conversation: a DATA message, a BDAT message in two chunks, then QUIT. */
    private static byte[] script() {
        String content = ("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n").repeat(1000);
        String chunk = "x".repeat(40_000);
        String s = "EHLO leak.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                + content + ".\r\n"
                + "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 40000\r\n" + chunk
                + "BDAT 40002 LAST\r\n" + chunk + "\r\n"
                + "QUIT\r\n";
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void awaitNoSessions(SmtpServer server, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (server.stats().sessionsOpen() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(server.stats().sessionsOpen()).as("sessions still open").isZero();
    }
}

package dev.tern.loadgen;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * The "many mostly-idle connections" scenario: opens {@link LoadSpec#idleConnections()} sessions (greeting and
 * EHLO, at most {@value #OPEN_CONCURRENCY} connecting at a time) and holds them, sending a NOOP every
 * {@link LoadSpec#idleKeepAlive()}, while the workers measure how fast new sessions get their 220. Counts sessions
 * that could not be opened and sessions the server dropped.
 *
 * <p>One virtual thread per idle session; {@link #close()} (called from the run's thread) ends them all.
 */
final class IdleFleet implements AutoCloseable {
    private static final int OPEN_CONCURRENCY = 256;

    private final LoadSpec spec;
    private final Semaphore opening = new Semaphore(OPEN_CONCURRENCY);
    private final Set<SmtpClient> open = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private final LongAdder established = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder settled = new LongAdder();
    private volatile boolean closing;

    IdleFleet(LoadSpec spec) {
        this.spec = spec;
    }

    /** Starts opening every idle session and waits until each is open or has failed, at most {@code timeout}. */
    void open(Duration timeout) throws InterruptedException {
        for (int i = 0; i < spec.idleConnections(); i++) {
            threads.add(Thread.ofVirtual().name("tern-loadgen-idle-" + i).start(this::hold));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (settled.sum() < spec.idleConnections() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private void hold() {
        SmtpClient client = null;
        boolean up = false;
        try {
            opening.acquire();
            try {
                client = SmtpClient.connect(spec.target(), spec.connectTimeout(), spec.replyTimeout(),
                        SmtpClient.IDLE_READ, SmtpClient.IDLE_WRITE);
                open.add(client);
                if (closing || client.readReply() != 220 || client.ehlo(spec.helo()) != 250) {
                    throw new IOException("session refused");
                }
            } finally {
                opening.release();
            }
            up = true;
            client.readTimeout(spec.idleKeepAlive());
            established.increment();
            settled.increment();
            while (!closing) {
                try {
                    client.readReply(); // unsolicited: the server is closing the session (421) or confused
                    throw new EOFException("unsolicited reply");
                } catch (SocketTimeoutException quiet) {
                    client.readTimeout(spec.replyTimeout());
                    client.append("NOOP\r\n").flush();
                    client.readReply();
                    client.readTimeout(spec.idleKeepAlive());
                }
            }
        } catch (IOException e) {
            if (!closing) {
                (up ? dropped : failed).increment();
                if (!up) {
                    settled.increment();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (client != null) {
                open.remove(client);
                client.close();
            }
        }
    }

    long established() {
        return established.sum();
    }

    long failed() {
        return failed.sum();
    }

    long dropped() {
        return dropped.sum();
    }

    @Override
    public void close() {
        closing = true;
        for (SmtpClient c : open) {
            c.close();
        }
        try {
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

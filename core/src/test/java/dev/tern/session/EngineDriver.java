package dev.tern.session;

import dev.tern.buffer.BufferPool;
import dev.tern.config.Cidr;
import dev.tern.config.LineEndingPolicy;
import dev.tern.config.SmtpSettings;
import dev.tern.journal.Journal;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Drives a {@link SessionEngine} the way {@link Session} does, without sockets: bytes in, reply bytes out. Each
 * {@link #send} delivers its bytes as one read (a PIPELINING batch) if they fit the input buffer.
 */
final class EngineDriver implements AutoCloseable {
    static final String HOST = "tern.test";

    final SessionEngine engine;
    final BufferPool bodies;
    final SessionCounters counters = new SessionCounters();
    private final ByteBuffer in = ByteBuffer.allocate(4096).flip();
    private final ByteBuffer out = ByteBuffer.allocate(4096);
    private final StringBuilder output = new StringBuilder();
    private boolean closed;
    private int flushes;

    EngineDriver(SmtpSettings settings, Journal journal, BufferPool bodies, boolean trustedClient) {
        this.bodies = bodies;
        ClientInfo client = ClientInfo.of(new InetSocketAddress("192.0.2.7", 40000),
                trustedClient ? List.of(Cidr.parse("192.0.2.0/24")) : List.of());
        this.engine = new SessionEngine(settings, journal, bodies, client, counters);
    }

    EngineDriver(SmtpSettings settings, Journal journal) {
        this(settings, journal, new BufferPool(1024, 16, 0), true);
    }

    static SmtpSettings settings() {
        return new SmtpSettings(HOST, 512, 10_000, 1000, 3, 100, 10, false, 5, Duration.ZERO,
                Duration.ofMinutes(5), Duration.ofMinutes(3), LineEndingPolicy.REJECT);
    }

    String greet() {
        engine.greet(out);
        flush();
        return take();
    }

    /** Sends bytes (ISO-8859-1: each char one octet) and returns everything the server wrote in response. */
    String send(String bytes) {
        return send(bytes.getBytes(StandardCharsets.ISO_8859_1));
    }

    String send(byte[] bytes) {
        int at = 0;
        do {
            in.compact();
            int n = Math.min(in.remaining(), bytes.length - at);
            in.put(bytes, at, n);
            at += n;
            in.flip();
            run();
        } while (at < bytes.length && !closed);
        return take();
    }

    private void run() {
        while (!closed) {
            int step = engine.process(in, out);
            flush();
            if (step == SessionEngine.CLOSE) {
                closed = true;
            } else if (step == SessionEngine.NEED_INPUT) {
                return;
            }
        }
    }

    private void flush() {
        if (out.position() > 0) {
            flushes++;
        }
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        out.clear();
        output.append(new String(b, StandardCharsets.ISO_8859_1));
    }

    private String take() {
        String s = output.toString();
        output.setLength(0);
        return s;
    }

    boolean closed() {
        return closed;
    }

    /** How many non-empty flushes (socket writes) the session has made. */
    int flushes() {
        return flushes;
    }

    @Override
    public void close() {
        engine.release();
    }
}

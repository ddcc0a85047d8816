package dev.tern.session;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.config.SmtpSettings;
import dev.tern.io.DeadlineSweeper;
import dev.tern.journal.Journal;
import dev.tern.tls.ServerTlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tern's SMTP server: binds {@code config.listen()}, accepts on a platform thread ({@link Listener}), runs each
 * connection as a {@link Session} on its own virtual thread, and commits accepted mail to the {@link Journal}
 * before answering 250.
 *
 * <p>Threading: {@link #start} and {@link #close()} from any one thread; {@link #stats()} and the accessors from any
 * thread. Ownership: the server owns its socket, threads and buffer pools; the journal stays the caller's (closing
 * the server does not close it).
 */
public final class SmtpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServer.class);
    /** Content chunk size: big enough that a typical message is a few chunks, small enough to pool. */
    public static final int BODY_CHUNK = 64 * 1024;
    private static final long SHUTDOWN_GRACE_MILLIS = 2000;
    /** How often the STARTTLS certificate files are checked for a renewal. */
    static final long TLS_RELOAD_CHECK_MILLIS = 60_000;

    private final ServerSocketChannel server;
    private final SessionContext ctx;
    private final Listener listener;
    private final Thread listenerThread;
    /** Checks the STARTTLS files for a renewal every minute; null without STARTTLS. */
    private final Thread tlsReloader;
    private final InetSocketAddress localAddress;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private SmtpServer(ServerSocketChannel server, SessionContext ctx, ConnectionLimiter limiter, RelayConfig config)
            throws IOException {
        this.server = server;
        this.ctx = ctx;
        this.localAddress = (InetSocketAddress) server.getLocalAddress();
        this.listener = new Listener(server, ctx, limiter, config.mynetworks());
        this.listenerThread = Thread.ofPlatform().name("tern-smtp-listener").daemon().unstarted(listener);
        this.tlsReloader = ctx.tls() == null ? null
                : Thread.ofVirtual().name("tern-tls-reload").unstarted(() -> reloadTlsEveryMinute(ctx.tls()));
    }

    private void reloadTlsEveryMinute(ServerTlsContext tls) {
        while (!closed.get()) {
            try {
                Thread.sleep(TLS_RELOAD_CHECK_MILLIS);
            } catch (InterruptedException e) {
                return; // closing
            }
            tls.reloadIfChanged();
        }
    }

    /** Binds and starts serving; {@code config.listen()} port 0 picks an ephemeral port (see {@link #localAddress}). */
    public static SmtpServer start(RelayConfig config, Journal journal) throws IOException {
        SmtpSettings s = config.smtp();
        int sessions = s.maxConnections();
        int commandSize = commandBufferSize(s);
        BufferPool commands = new BufferPool(commandSize, Math.min(2 * sessions, 2048), 2 * sessions + 16);
        int chunks = (int) Math.clamp(s.bodyBufferMemory() / BODY_CHUNK, 1, Integer.MAX_VALUE);
        int pooledChunks = Math.min(32, chunks);
        BufferPool bodies = new BufferPool(BODY_CHUNK, pooledChunks, chunks - pooledChunks);
        return start(config, journal, commands, bodies);
    }

    /** As {@link #start(RelayConfig, Journal)} with caller-made pools (tests use small ones to provoke exhaustion). */
    public static SmtpServer start(RelayConfig config, Journal journal, BufferPool commandBuffers,
                                   BufferPool bodyBuffers) throws IOException {
        SmtpSettings s = config.smtp();
        validate(s);
        if (commandBuffers.bufferSize() < commandBufferSize(s)) {
            throw new IllegalArgumentException("command buffers must hold " + commandBufferSize(s) + " bytes");
        }
        ServerTlsContext tls = s.tlsCertificate().isPresent() && s.tlsKey().isPresent()
                ? ServerTlsContext.load(s.tlsCertificate().get(), s.tlsKey().get(), s.tlsMaxSessions()) : null;
        Duration shortest = s.commandTimeout().compareTo(s.dataTimeout()) < 0 ? s.commandTimeout() : s.dataTimeout();
        DeadlineSweeper sweeper = new DeadlineSweeper(DeadlineSweeper.periodFor(shortest));
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            HostPort listen = config.listen();
            ch.bind(new InetSocketAddress(listen.host(), listen.port()), 1024);
            SessionContext ctx = new SessionContext(s, journal, commandBuffers, bodyBuffers, new SessionCounters(),
                    sweeper, tls);
            ConnectionLimiter limiter = new ConnectionLimiter(s.maxConnections(), s.maxConnectionsPerClient());
            SmtpServer server = new SmtpServer(ch, ctx, limiter, config);
            server.listenerThread.start();
            if (server.tlsReloader != null) {
                server.tlsReloader.start();
            }
            LOG.info("SMTP listening on {}", server.localAddress);
            return server;
        } catch (IOException | RuntimeException e) {
            ch.close();
            sweeper.close();
            throw e;
        }
    }

    /** Rejects settings no session could work with, before anything is bound (fail at start, not per session). */
    static void validate(SmtpSettings s) {
        String host = s.hostname();
        boolean printable = host != null && host.chars().allMatch(c -> c > 0x20 && c < 0x7F);
        if (!printable || host.isEmpty() || host.length() > 255) {
            throw new IllegalArgumentException("smtp hostname must be 1..255 printable US-ASCII characters: " + host);
        }
        if (s.maxRecipients() < 1 || s.maxErrors() < 1 || s.maxMessageSize() < 1 || s.maxDataLine() < 3
                || s.bodyBufferMemory() < BODY_CHUNK) {
            throw new IllegalArgumentException("smtp limits must be positive: " + s);
        }
        if (!s.commandTimeout().isPositive() || !s.dataTimeout().isPositive() || s.pregreetDelay().isNegative()) {
            throw new IllegalArgumentException("smtp timeouts must be positive: " + s);
        }
    }

    /**
     * The command buffer must hold the longest command line the parser accepts (MAIL/RCPT with their parameter
     * allowances, RFC 1870/3461/6531) plus room to pipeline; 4 KiB keeps 10,000 idle sessions at ~80 MiB.
     */
    static int commandBufferSize(SmtpSettings s) {
        return Math.max(4096, Integer.highestOneBit(SessionEngine.maxFramedLine(s) * 2 - 1) << 1);
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public BufferPool commandBuffers() {
        return ctx.commandBuffers();
    }

    public BufferPool bodyBuffers() {
        return ctx.bodyBuffers();
    }

    /** Buffers currently held by sessions, in both pools: zero once every session has ended. */
    public int outstandingBuffers() {
        return ctx.commandBuffers().outstanding() + ctx.bodyBuffers().outstanding();
    }

    /** STARTTLS's certificate and key, or null without STARTTLS (tests reload it without waiting a minute). */
    ServerTlsContext tls() {
        return ctx.tls();
    }

    public SessionStats stats() {
        return ctx.counters().snapshot();
    }

    /** Stops accepting, asks every session to say 421 and close, waits briefly, then cuts the rest off. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing listen socket: {}", e.toString());
        }
        joinQuietly(listenerThread, SHUTDOWN_GRACE_MILLIS);
        if (tlsReloader != null) {
            tlsReloader.interrupt();
        }
        for (Session s : listener.sessions()) {
            s.shutdown();
        }
        if (!awaitSessions(SHUTDOWN_GRACE_MILLIS)) {
            for (Session s : listener.sessions()) {
                s.abort();
            }
            awaitSessions(SHUTDOWN_GRACE_MILLIS);
        }
        ctx.deadlines().close();
        LOG.info("SMTP server on {} stopped", localAddress);
    }

    private boolean awaitSessions(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (!listener.sessions().isEmpty()) {
            if (System.nanoTime() - end >= 0) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static void joinQuietly(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

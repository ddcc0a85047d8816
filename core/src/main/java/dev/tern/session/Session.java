package dev.tern.session;

import dev.tern.io.DeadlineSweeper;
import dev.tern.tls.TlsChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP connection, run on its own virtual thread: reads client bytes into a pooled direct buffer, lets the
 * {@link SessionEngine} turn them into replies, and writes those back once per pipelined batch (RFC 2920).
 * Timeouts come from the {@link DeadlineSweeper}: on expiry it shuts the socket's input down, which wakes the
 * blocked read; the session then answers 421 4.4.2 and closes. If the session is stuck writing to a client that
 * does not read, the sweeper closes the channel after a grace period.
 *
 * <p>Threading: {@link #run()} on the session's thread; {@link #expire} and {@link #shutdown()} from other threads.
 * Ownership: the session owns its channel and buffers and releases all of them in one {@code finally}.
 */
final class Session implements Runnable, DeadlineSweeper.Expirable {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private static final long WRITE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final SocketChannel channel;
    private final ClientInfo client;
    private final SessionContext ctx;
    private final Runnable onClose;
    /** A large body-pool buffer used for input while message content streams in (fewer, larger reads). */
    private ByteBuffer contentIn;
    private volatile long deadline = Long.MAX_VALUE;
    private volatile boolean timedOut;
    private volatile boolean shuttingDown;
    /** Set once STARTTLS's handshake is done: every read and write goes through it. */
    private TlsChannel tls;
    /** This session holds one of the server's TLS sessions (its buffers' memory); released when it ends. */
    private boolean tlsPermit;

    Session(SocketChannel channel, ClientInfo client, SessionContext ctx, Runnable onClose) {
        this.channel = channel;
        this.client = client;
        this.ctx = ctx;
        this.onClose = onClose;
    }

    @Override
    public void run() {
        ByteBuffer in = null;
        ByteBuffer out = null;
        SessionEngine engine = null;
        ctx.counters().sessionOpened();
        ctx.deadlines().register(this);
        LOG.debug("connect from {}", client);
        try {
            in = ctx.commandBuffers().acquire();
            out = ctx.commandBuffers().acquire();
            if (in == null || out == null) {
                // Local resource failure: a temporary reply (RFC 5321 4.2.5), never 5xx.
                ctx.counters().rejected(RejectReason.LOCAL_ERROR);
                writeBestEffort(SessionEngine.LOCAL_ERROR_GOODBYE);
                return;
            }
            engine = new SessionEngine(ctx.settings(), ctx.journal(), ctx.bodyBuffers(), client, ctx.counters(),
                    ctx.tls() != null);
            serve(engine, in, out);
        } catch (IOException e) {
            LOG.debug("session {} ended: {}", client, e.toString());
        } catch (RuntimeException e) {
            LOG.warn("session {} failed", client, e);
        } finally {
            deadline = Long.MAX_VALUE;
            ctx.deadlines().unregister(this);
            if (engine != null) {
                engine.release();
            }
            ctx.commandBuffers().release(in);
            ctx.bodyBuffers().release(contentIn);
            contentIn = null;
            ctx.commandBuffers().release(out);
            if (tlsPermit) {
                ctx.tls().release();
            }
            closeQuietly();
            onClose.run(); // permits first, so a client that sees the session gone can connect again
            ctx.counters().sessionClosed();
            LOG.debug("disconnect from {}", client);
        }
    }

    private void serve(SessionEngine engine, ByteBuffer commandIn, ByteBuffer out) throws IOException {
        ByteBuffer in = commandIn;
        in.flip(); // read mode: position..limit holds unread client bytes
        if (!client.trusted() && !ctx.settings().pregreetDelay().isZero()) {
            if (earlyTalker(in)) {
                engine.earlyTalker(out);
                flush(out);
                return;
            }
        }
        engine.greet(out);
        while (true) {
            int step = engine.process(in, out);
            if (step == SessionEngine.CLOSE) {
                flush(out);
                if (tls != null) {
                    tls.close();
                }
                return;
            }
            flush(out);
            if (step == SessionEngine.FLUSH) {
                continue;
            }
            if (step == SessionEngine.START_TLS) {
                tlsPermit = ctx.tls().tryAcquire(); // once per session: the engine takes STARTTLS only once
                if (!tlsPermit) {
                    engine.tlsUnavailable(out);
                    continue;
                }
                engine.tlsReady(out);
                flush(out);
                startTls(engine);
                continue;
            }
            // NEED_INPUT: every complete command has been answered; wait for more.
            in = chooseInput(engine, in, commandIn);
            in.compact();
            if (shuttingDown) {
                engine.shutdown(out);
                flush(out);
                return;
            }
            long timeout = engine.receivingContent() ? ctx.settings().dataTimeout().toNanos()
                    : ctx.settings().commandTimeout().toNanos();
            deadline = System.nanoTime() + timeout;
            int n = read(in);
            deadline = Long.MAX_VALUE;
            in.flip();
            if (n < 0) {
                if (timedOut) {
                    ctx.counters().rejected(RejectReason.TIMEOUT);
                    engine.timeout(out);
                    flushBestEffort(out);
                } else if (shuttingDown) {
                    engine.shutdown(out);
                    flushBestEffort(out);
                } else {
                    engine.disconnected();
                }
                return;
            }
        }
    }

    /**
     * Idle sessions hold only the small command buffer; while content streams in (DATA/BDAT) input moves to a
     * 64 KiB body-pool buffer so a large message takes few reads, and moves back once the unread bytes fit.
     * The unread bytes are copied from the position on, so the framer's scan state (relative to it) stays valid.
     */
    private ByteBuffer chooseInput(SessionEngine engine, ByteBuffer in, ByteBuffer commandIn) {
        if (engine.receivingContent()) {
            if (contentIn == null) {
                contentIn = ctx.bodyBuffers().acquire();
                if (contentIn == null) {
                    return in; // pool exhausted: carry on with the small buffer
                }
                contentIn.put(in).flip();
            }
            return contentIn;
        }
        if (contentIn != null && in == contentIn && contentIn.remaining() <= commandIn.capacity()) {
            commandIn.clear();
            commandIn.put(contentIn).flip();
            ctx.bodyBuffers().release(contentIn);
            contentIn = null;
            return commandIn;
        }
        return in;
    }

    /**
     * The pre-greeting wait (Postfix postscreen's "pregreet" test): a client outside mynetworks that talks before
     * the 220 is not a well-behaved SMTP client (RFC 5321 3.1: the client waits for the greeting).
     */
    private boolean earlyTalker(ByteBuffer in) throws IOException {
        try {
            Thread.sleep(ctx.settings().pregreetDelay());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during pre-greeting wait", e);
        }
        channel.configureBlocking(false);
        try {
            in.compact();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("client left before the greeting");
            }
            if (n > 0) {
                ctx.counters().rejected(RejectReason.EARLY_TALKER);
                LOG.info("early talker {} rejected", client);
                return true;
            }
            return false;
        } finally {
            channel.configureBlocking(true);
        }
    }

    /**
     * The TLS handshake after the 220 to STARTTLS, under the command timeout. A failed handshake ends the session:
     * no SMTP reply can be sent on a connection whose TLS state is unknown.
     */
    private void startTls(SessionEngine engine) throws IOException {
        TlsChannel t = new TlsChannel(channel, ctx.tls().newEngine());
        deadline = System.nanoTime() + ctx.settings().commandTimeout().toNanos();
        try {
            t.handshake();
        } catch (IOException e) {
            LOG.info("TLS handshake with {} failed: {}", client, e.getMessage());
            throw e;
        } finally {
            deadline = Long.MAX_VALUE;
        }
        tls = t;
        engine.tlsStarted();
        ctx.counters().tlsStarted();
        LOG.debug("TLS with {}: {}", client, t.describe());
    }

    /** Client bytes into {@code in}, through TLS once it has started. */
    private int read(ByteBuffer in) throws IOException {
        return tls == null ? channel.read(in) : tls.read(in);
    }

    private void flush(ByteBuffer out) throws IOException {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        try {
            if (tls != null) {
                deadline = System.nanoTime() + ctx.settings().commandTimeout().toNanos();
                tls.write(out);
            }
            while (out.hasRemaining()) {
                deadline = System.nanoTime() + ctx.settings().commandTimeout().toNanos();
                channel.write(out);
            }
        } finally {
            deadline = Long.MAX_VALUE;
            out.clear();
        }
    }

    private void flushBestEffort(ByteBuffer out) {
        try {
            flush(out);
        } catch (IOException e) {
            LOG.debug("final reply to {} not sent: {}", client, e.toString());
        }
    }

    private void writeBestEffort(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            deadline = System.nanoTime() + WRITE_GRACE_NANOS;
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            LOG.debug("reply to {} not sent: {}", client, e.toString());
        } finally {
            deadline = Long.MAX_VALUE;
        }
    }

    @Override
    public long deadlineNanos() {
        return deadline;
    }

    @Override
    public void expire(long nowNanos) {
        if (!timedOut) {
            // First expiry: wake the blocked read with end-of-input so the session can still say 421.
            timedOut = true;
            deadline = nowNanos + WRITE_GRACE_NANOS;
            try {
                channel.shutdownInput();
            } catch (IOException e) {
                closeQuietly();
            }
        } else {
            // Still stuck (a write to a client that does not read): give up on the connection.
            deadline = Long.MAX_VALUE;
            closeQuietly();
        }
    }

    /** Asks the session to end: it answers 421 4.3.2 at its next read and closes. Called on server shutdown. */
    void shutdown() {
        shuttingDown = true;
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            closeQuietly();
        }
    }

    /** Closes the connection now, whatever the session is doing (end of server shutdown). */
    void abort() {
        closeQuietly();
    }

    private void closeQuietly() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close {} failed: {}", client, e.toString());
        }
    }
}

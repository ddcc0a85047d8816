package dev.tern.session;

import dev.tern.config.Cidr;
import dev.tern.config.SmtpSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The acceptor: a platform thread that takes a connection permit, accepts, checks the per-client limit and starts
 * one virtual thread per admitted connection. A connection over a limit is still accepted so that it gets a clear
 * {@code 421 4.7.0} instead of hanging in the backlog, then closed (RFC 5321 3.8: 421 when the service is not
 * available).
 *
 * <p>Threading: {@link #run()} on the listener thread; {@link #sessions()} may be read from any thread.
 */
final class Listener implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);

    private final ServerSocketChannel server;
    private final SessionContext ctx;
    private final ConnectionLimiter limiter;
    private final List<Cidr> mynetworks;
    private final byte[] tooManyConnections;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final Thread.Builder sessionThreads = Thread.ofVirtual().name("smtp-", 0);

    Listener(ServerSocketChannel server, SessionContext ctx, ConnectionLimiter limiter, List<Cidr> mynetworks) {
        this.server = server;
        this.ctx = ctx;
        this.limiter = limiter;
        this.mynetworks = List.copyOf(mynetworks);
        this.tooManyConnections = SessionEngine.tooManyConnections(ctx.settings());
    }

    Set<Session> sessions() {
        return sessions;
    }

    @Override
    public void run() {
        SmtpSettings settings = ctx.settings();
        while (server.isOpen()) {
            boolean permit = limiter.tryAcquireTotal();
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                releaseIf(permit);
                return;
            } catch (IOException e) {
                releaseIf(permit);
                LOG.warn("accept failed: {}", e.toString());
                pauseAfterAcceptFailure();
                continue;
            }
            // A session may have ended while we waited in accept(): its permit counts for this connection.
            if (!permit && !limiter.tryAcquireTotal()) {
                reject(ch, RejectReason.TOO_MANY_CONNECTIONS);
                continue;
            }
            admit(ch, settings);
        }
    }

    private void admit(SocketChannel ch, SmtpSettings settings) {
        ClientInfo client;
        try {
            ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            client = ClientInfo.of((InetSocketAddress) ch.getRemoteAddress(), mynetworks);
        } catch (IOException e) {
            limiter.releaseTotal();
            closeQuietly(ch);
            return;
        }
        boolean perClient = !client.trusted() || settings.limitMynetworks();
        if (perClient && !limiter.tryAcquireClient(client.address())) {
            limiter.releaseTotal();
            reject(ch, RejectReason.TOO_MANY_CONNECTIONS_FROM_CLIENT);
            return;
        }
        Session[] self = new Session[1];
        Runnable onClose = () -> {
            sessions.remove(self[0]);
            if (perClient) {
                limiter.releaseClient(client.address());
            }
            limiter.releaseTotal();
        };
        Session session = new Session(ch, client, ctx, onClose);
        self[0] = session;
        sessions.add(session);
        try {
            sessionThreads.start(session);
        } catch (RuntimeException | OutOfMemoryError e) {
            sessions.remove(session);
            onClose.run();
            reject(ch, RejectReason.LOCAL_ERROR);
        }
    }

    /** Answers 421 without blocking the acceptor: the reply fits any fresh socket's send buffer. */
    private void reject(SocketChannel ch, RejectReason reason) {
        ctx.counters().rejected(reason);
        try {
            ch.configureBlocking(false);
            ch.write(ByteBuffer.wrap(tooManyConnections));
        } catch (IOException e) {
            LOG.debug("421 not sent: {}", e.toString());
        } finally {
            closeQuietly(ch);
        }
    }

    private void releaseIf(boolean permit) {
        if (permit) {
            limiter.releaseTotal();
        }
    }

    private static void pauseAfterAcceptFailure() {
        try {
            Thread.sleep(50); // e.g. EMFILE: do not spin on a failing accept
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("close failed: {}", e.toString());
        }
    }
}

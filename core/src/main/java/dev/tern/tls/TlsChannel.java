package dev.tern.tls;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * TLS over a blocking {@link SocketChannel}, for a connection that upgrades in the middle (STARTTLS, RFC 3207): the
 * same {@code read}/{@code write} calls as the channel, with an {@link SSLEngine} between. Timeouts stay the
 * caller's: shutting the channel's input down ends a blocked {@link #handshake} or {@link #read} with end of input.
 *
 * <p>Decrypted bytes wait in a buffer of the engine's application size and are handed out as the caller's buffer
 * has room, so the caller may read into a buffer smaller than a TLS record (a session's 4 KiB command buffer).
 * Records go out one {@code wrap} at a time: a pipelined batch of replies is one record.
 *
 * <p>Threading: one thread at a time (the session's).
 */
public final class TlsChannel {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    /** Ciphertext from the peer not yet unwrapped (write mode). */
    private final ByteBuffer netIn;
    /** Plaintext unwrapped but not yet handed out (write mode). */
    private final ByteBuffer appIn;
    /** Ciphertext to send (read mode between calls: empty). */
    private final ByteBuffer netOut;

    public TlsChannel(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        SSLSession s = engine.getSession();
        this.netIn = ByteBuffer.allocate(s.getPacketBufferSize());
        this.appIn = ByteBuffer.allocate(s.getApplicationBufferSize());
        this.netOut = ByteBuffer.allocate(s.getPacketBufferSize());
    }

    /** Runs the handshake to its end; {@link IOException} when the peer leaves or the handshake fails. */
    public void handshake() throws IOException {
        engine.beginHandshake();
        HandshakeStatus status = engine.getHandshakeStatus();
        while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
            status = switch (status) {
                case NEED_WRAP -> wrap(EMPTY);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (unwrap().getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && fill() < 0) {
                        throw new EOFException("peer left during the TLS handshake");
                    }
                    yield engine.getHandshakeStatus();
                }
                case NEED_TASK -> {
                    runTasks();
                    yield engine.getHandshakeStatus();
                }
                default -> throw new SSLException("unexpected handshake status " + status);
            };
        }
    }

    /** As {@link SocketChannel#read}: plaintext into {@code dst}, -1 at the end of input (or the peer's close). */
    public int read(ByteBuffer dst) throws IOException {
        while (true) {
            if (appIn.position() > 0) {
                appIn.flip();
                int n = Math.min(appIn.remaining(), dst.remaining());
                dst.put(dst.position(), appIn, appIn.position(), n).position(dst.position() + n);
                appIn.position(appIn.position() + n).compact();
                return n;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            SSLEngineResult r = unwrap();
            switch (r.getStatus()) {
                case CLOSED -> {
                    return -1;
                }
                case BUFFER_UNDERFLOW -> {
                    if (fill() < 0) {
                        return -1;
                    }
                }
                default -> runPostHandshake();
            }
        }
    }

    /** As a blocking {@link SocketChannel#write} of all of {@code src}. */
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            int before = src.remaining();
            HandshakeStatus status = wrap(src);
            if (engine.isOutboundDone()) {
                throw new SSLException("TLS session closed");
            }
            if (src.remaining() == before && status == HandshakeStatus.NEED_UNWRAP) {
                // Only a renegotiation asked for by the peer stops a wrap; Tern does not take part in one.
                throw new SSLException("TLS renegotiation is not supported");
            }
        }
    }

    /** Sends close_notify, best effort: the peer may already be gone. */
    public void close() {
        engine.closeOutbound();
        try {
            while (!engine.isOutboundDone()) {
                wrap(EMPTY);
            }
        } catch (IOException e) {
            // the peer left first; nothing to tell it
        }
    }

    /** {@link #read} as a stream, for readers built on one (blocking; no buffering of its own). */
    public InputStream inputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                int n;
                do {
                    n = TlsChannel.this.read(ByteBuffer.wrap(b, off, len));
                } while (n == 0);
                return n;
            }

            /** Plaintext waiting here, else 1 when ciphertext waits (here or in the socket), else 0. */
            @Override
            public int available() throws IOException {
                if (appIn.position() > 0) {
                    return appIn.position();
                }
                return netIn.position() > 0 || channel.socket().getInputStream().available() > 0 ? 1 : 0;
            }
        };
    }

    /** The negotiated protocol and cipher suite, for logs. */
    public String describe() {
        SSLSession s = engine.getSession();
        return s.getProtocol() + " " + s.getCipherSuite();
    }

    /** Wraps from {@code src} and sends the record(s) at once; returns the handshake status after. */
    private HandshakeStatus wrap(ByteBuffer src) throws IOException {
        netOut.clear();
        SSLEngineResult r = engine.wrap(src, netOut);
        netOut.flip();
        while (netOut.hasRemaining()) {
            channel.write(netOut);
        }
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            throw new SSLException("TLS record larger than the packet buffer");
        }
        if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        return engine.getHandshakeStatus();
    }

    private SSLEngineResult unwrap() throws SSLException {
        netIn.flip();
        try {
            return engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
    }

    /** Reads more ciphertext; -1 at the end of input. */
    private int fill() throws IOException {
        if (!netIn.hasRemaining()) {
            throw new SSLException("TLS record larger than the packet buffer");
        }
        return channel.read(netIn);
    }

    /** TLS 1.3 messages after the handshake (a key update) may ask for a reply or a task. */
    private void runPostHandshake() throws IOException {
        HandshakeStatus status = engine.getHandshakeStatus();
        if (status == HandshakeStatus.NEED_TASK) {
            runTasks();
            status = engine.getHandshakeStatus();
        }
        if (status == HandshakeStatus.NEED_WRAP) {
            wrap(EMPTY);
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}

package dev.tern.delivery;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP client connection to a next hop (RFC 5321 client side): greeting, EHLO with HELO fallback, then mail
 * transactions with PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), CHUNKING/BDAT (RFC 3030) and DSN
 * parameters (RFC 3461) when the peer offers them. The body streams from the journal through a pooled direct buffer;
 * no heap copy of it is made.
 *
 * <p>Threading: used by one virtual thread at a time (a delivery worker, or the connection cache between uses).
 * Blocking reads and writes are bounded by a deadline that a {@link DeadlineSweeper} enforces by closing the channel.
 * Ownership: the caller closes it ({@link #quit()} or {@link #abort()}).
 */
final class OutboundConnection {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundConnection.class);

    private final HostPort hop;
    private final SocketChannel channel;
    private final ReplyReader replies;
    private final ByteBuffer commands = ByteBuffer.allocateDirect(4096);
    private final BufferPool pool;
    private final DeadlineSweeper sweeper;
    private final long commandTimeoutNanos;
    private EhloCapabilities caps = EhloCapabilities.NONE;
    private volatile long deadlineNanos = Long.MAX_VALUE;
    private boolean broken;
    private int transactions;
    private long idleSinceNanos;
    private Runnable onClose = () -> { };
    private boolean closed;

    private OutboundConnection(HostPort hop, SocketChannel channel, BufferPool pool, DeadlineSweeper sweeper,
                               long commandTimeoutNanos) throws IOException {
        this.hop = hop;
        this.channel = channel;
        this.pool = pool;
        this.sweeper = sweeper;
        this.commandTimeoutNanos = commandTimeoutNanos;
        this.replies = new ReplyReader(channel.socket().getInputStream());
    }

    /** Connects, reads the greeting and says EHLO (HELO when EHLO gets a 5xx). */
    static OutboundConnection open(HostPort hop, String heloName, BufferPool pool, DeadlineSweeper sweeper,
                                   long connectTimeoutMillis, long commandTimeoutMillis) throws IOException {
        SocketChannel ch = SocketChannel.open();
        OutboundConnection c = null;
        try {
            ch.socket().connect(new InetSocketAddress(hop.host(), hop.port()), (int) connectTimeoutMillis);
            ch.socket().setTcpNoDelay(true);
            c = new OutboundConnection(hop, ch, pool, sweeper, TimeUnit.MILLISECONDS.toNanos(commandTimeoutMillis));
            sweeper.watch(c);
            c.handshake(heloName);
            return c;
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                c.abort();
            } else {
                ch.close();
            }
            if (e instanceof HopFailure) {
                throw e;
            }
            throw new HopFailure(SmtpReply.local(451, "4.4.1", "connect to " + hop + " failed: " + e.getMessage()));
        }
    }

    private void handshake(String heloName) throws IOException {
        SmtpReply greeting = await();
        if (greeting.code() != 220) {
            throw new HopFailure(greeting);
        }
        command("EHLO " + heloName);
        SmtpReply ehlo = await();
        if (ehlo.positive()) {
            caps = EhloCapabilities.parse(ehlo);
            return;
        }
        if (!ehlo.permanentFailure()) {
            throw new HopFailure(ehlo);
        }
        // RFC 5321 3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
        command("HELO " + heloName);
        SmtpReply helo = await();
        if (!helo.positive()) {
            throw new HopFailure(helo);
        }
        caps = EhloCapabilities.NONE;
    }

    /**
     * Runs one mail transaction for {@code rcpts} (indices into the envelope's recipients) and returns a reply per
     * recipient. {@code prefix} (header fields added at delivery, e.g. DKIM-Signature) goes before the stored body.
     * Never throws for a peer or network problem: those become local 4xx replies for the recipients that had no
     * final answer yet, and the connection is marked unusable.
     */
    TransactionResult send(EnvelopeRecord env, int[] rcpts, byte[] prefix, long storedLength, BodyReader body) {
        long bodyLength = prefix.length + storedLength;
        if (caps.maxSize() > 0 && bodyLength > caps.maxSize()) {
            // RFC 1870 6: do not send what the peer already said it will not take.
            return TransactionResult.all(SmtpReply.local(552, "5.3.4",
                    "message size " + bodyLength + " exceeds the limit of " + hop + " (" + caps.maxSize() + ")"),
                    rcpts.length);
        }
        if (env.smtputf8() && !caps.smtputf8()) {
            // RFC 6531 3.4: a message that needs SMTPUTF8 must not go to a server that does not offer it.
            return TransactionResult.all(SmtpReply.local(553, "5.6.7",
                    hop + " does not support SMTPUTF8, which this message needs"), rcpts.length);
        }
        SmtpReply[] out = new SmtpReply[rcpts.length];
        boolean closing = false;
        try {
            transactions++;
            boolean pipelined = caps.pipelining();
            boolean bdat = caps.chunking();
            // A reused connection starts each transaction with RSET (RFC 5321 4.1.1.5): a clean state whatever the
            // previous one left behind.
            boolean reset = transactions > 1;
            commands.clear();
            if (reset) {
                append("RSET");
                if (!pipelined) {
                    expectPositive(flushAndAwait());
                }
            }
            append(mailCommand(env, bodyLength));
            SmtpReply mail = null;
            if (!pipelined) {
                mail = flushAndAwait();
            }
            for (int i = 0; i < rcpts.length && (pipelined || mail.positive()); i++) {
                append(rcptCommand(env.recipients().get(rcpts[i])));
                if (!pipelined) {
                    out[i] = flushAndAwait();
                }
            }
            boolean dataSent = false;
            if (!bdat && (pipelined || (mail.positive() && anyPositive(out)))) {
                append("DATA");
                dataSent = true;
            }
            if (pipelined) {
                flush();
                if (reset) {
                    expectPositive(await());
                }
                mail = await();
                for (int i = 0; i < rcpts.length; i++) {
                    out[i] = await();
                }
            }
            if (!mail.positive()) {
                closing = mail.code() == 421;
                fill(out, mail);
                if (dataSent) {
                    drainDataReply(pipelined);
                }
                return new TransactionResult(List.of(out), closing);
            }
            closing = anyCode(out, 421);
            if (!anyPositive(out)) {
                if (dataSent) {
                    drainDataReply(pipelined);
                }
                return new TransactionResult(List.of(out), closing);
            }
            SmtpReply done = bdat ? sendBdat(prefix, body, pipelined) : sendData(prefix, body, pipelined);
            closing |= done.code() == 421;
            for (int i = 0; i < out.length; i++) {
                if (out[i].positive()) {
                    out[i] = done;
                }
            }
            return new TransactionResult(List.of(out), closing);
        } catch (IOException | UncheckedIOException e) {
            broken = true;
            SmtpReply lost = SmtpReply.local(451, "4.4.2", "connection to " + hop + " lost: " + reason(e));
            for (int i = 0; i < out.length; i++) {
                if (out[i] == null || out[i].positive()) {
                    out[i] = lost;
                }
            }
            return new TransactionResult(List.of(out), closing);
        } catch (JournalException e) {
            broken = true; // the peer may be in the middle of DATA: never reuse
            SmtpReply local = SmtpReply.local(451, "4.3.0", "local error reading the queued message: "
                    + e.getMessage());
            for (int i = 0; i < out.length; i++) {
                if (out[i] == null || out[i].positive()) {
                    out[i] = local;
                }
            }
            return new TransactionResult(List.of(out), closing);
        }
    }

    private SmtpReply sendData(byte[] prefix, BodyReader body, boolean pipelined)
            throws IOException, JournalException {
        if (!pipelined) {
            flush();
        }
        SmtpReply go = await();
        if (go.code() != 354) {
            return go;
        }
        ByteBuffer buf = pool.acquire();
        if (buf == null) {
            throw new IOException("buffer pool exhausted");
        }
        try {
            BodyEncoder enc = new BodyEncoder(buf, true, this::writeFully);
            enc.encode(ByteBuffer.wrap(prefix));
            body.read(piece -> {
                try {
                    enc.encode(piece);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            enc.finish();
        } finally {
            pool.release(buf);
        }
        return awaitFinal();
    }

    private SmtpReply sendBdat(byte[] prefix, BodyReader body, boolean pipelined)
            throws IOException, JournalException {
        ByteBuffer buf = pool.acquire();
        if (buf == null) {
            throw new IOException("buffer pool exhausted");
        }
        List<SmtpReply> chunkReplies = new ArrayList<>();
        int[] sent = {0};
        try {
            BodyEncoder enc = new BodyEncoder(buf, false, chunk -> {
                chunk(chunk, false);
                sent[0]++;
                if (!pipelined) {
                    chunkReplies.add(awaitFinal());
                }
            });
            enc.encode(ByteBuffer.wrap(prefix));
            body.read(piece -> {
                try {
                    if (enc.canonical(piece)) {
                        // RFC 3030: BDAT carries the bytes as they are; a clean piece goes out without a copy.
                        enc.drain();
                        if (piece.hasRemaining()) {
                            chunk(piece.duplicate(), false);
                            sent[0]++;
                            if (!pipelined) {
                                chunkReplies.add(awaitFinal());
                            }
                        }
                        enc.skipped(piece);
                    } else {
                        enc.encode(piece);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            enc.finish();
        } finally {
            pool.release(buf);
        }
        chunk(ByteBuffer.allocate(0), true);
        sent[0]++;
        int expected = sent[0] - chunkReplies.size();
        for (int i = 0; i < expected; i++) {
            chunkReplies.add(awaitFinal());
        }
        for (SmtpReply r : chunkReplies) {
            if (!r.positive()) {
                return r;
            }
        }
        return chunkReplies.getLast();
    }

    private void chunk(ByteBuffer bytes, boolean last) throws IOException {
        commands.clear();
        append("BDAT " + bytes.remaining() + (last ? " LAST" : ""));
        flush();
        writeFully(bytes);
    }

    /** Reads the DATA reply of a pipelined batch whose recipients all failed; a stray 354 gets an empty message. */
    private void drainDataReply(boolean pipelined) throws IOException {
        if (!pipelined) {
            return;
        }
        SmtpReply data = await();
        if (data.code() == 354) {
            // RFC 2920 3.1: the server should have refused DATA; end the empty content so the dialogue stays in step.
            commands.clear();
            append(".");
            flush();
            await();
        }
    }

    private String mailCommand(EnvelopeRecord env, long bodyLength) {
        StringBuilder sb = new StringBuilder(96).append("MAIL FROM:<").append(env.sender()).append('>');
        if (caps.maxSize() > 0) {
            sb.append(" SIZE=").append(bodyLength);
        }
        if (caps.eightBitMime()) {
            if (env.body() == Envelope.BODY_8BITMIME) {
                sb.append(" BODY=8BITMIME");
            } else if (env.body() == Envelope.BODY_7BIT) {
                sb.append(" BODY=7BIT");
            }
        }
        if (caps.smtputf8() && env.smtputf8()) {
            sb.append(" SMTPUTF8");
        }
        if (caps.dsn()) {
            if (env.ret() == Envelope.RET_FULL) {
                sb.append(" RET=FULL");
            } else if (env.ret() == Envelope.RET_HDRS) {
                sb.append(" RET=HDRS");
            }
            if (!env.envid().isEmpty()) {
                sb.append(" ENVID=").append(env.envid());
            }
        }
        return sb.toString();
    }

    private String rcptCommand(EnvelopeRecord.Recipient r) {
        StringBuilder sb = new StringBuilder(64).append("RCPT TO:<").append(r.address()).append('>');
        if (caps.dsn()) {
            int n = r.notifyFlags();
            if (n != 0) {
                sb.append(" NOTIFY=");
                if ((n & Envelope.NOTIFY_NEVER) != 0) {
                    sb.append("NEVER");
                } else {
                    String sep = "";
                    if ((n & Envelope.NOTIFY_SUCCESS) != 0) {
                        sb.append("SUCCESS");
                        sep = ",";
                    }
                    if ((n & Envelope.NOTIFY_FAILURE) != 0) {
                        sb.append(sep).append("FAILURE");
                        sep = ",";
                    }
                    if ((n & Envelope.NOTIFY_DELAY) != 0) {
                        sb.append(sep).append("DELAY");
                    }
                }
            }
            if (!r.orcpt().isEmpty()) {
                sb.append(" ORCPT=").append(r.orcpt());
            }
        }
        return sb.toString();
    }

    /** Says QUIT politely (bounded by the deadline) and closes. */
    void quit() {
        if (!broken && channel.isOpen()) {
            try {
                commands.clear();
                append("QUIT");
                flush();
                await();
            } catch (IOException | RuntimeException e) {
                LOG.debug("QUIT to {} failed: {}", hop, e.toString());
            }
        }
        abort();
    }

    /** Runs {@code action} once when the connection is closed (releases the hop's connection permit). */
    void onClose(Runnable action) {
        this.onClose = action;
    }

    /** Closes at once. */
    void abort() {
        broken = true;
        sweeper.forget(this);
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        onClose.run();
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close of {} failed: {}", hop, e.toString());
        }
    }

    /** Called by the sweeper: closes the channel if the current operation is overdue. */
    void expireIfOverdue(long nowNanos) {
        if (nowNanos - deadlineNanos > 0) {
            LOG.info("timeout talking to {}: closing", hop);
            broken = true;
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("close of {} failed: {}", hop, e.toString());
            }
        }
    }

    HostPort hop() {
        return hop;
    }

    EhloCapabilities capabilities() {
        return caps;
    }

    int transactions() {
        return transactions;
    }

    /** Usable for another transaction: nothing failed at the network level and the channel is open. */
    boolean usable() {
        return !broken && channel.isOpen();
    }

    void idleSince(long nanos) {
        idleSinceNanos = nanos;
    }

    long idleSince() {
        return idleSinceNanos;
    }

    private void append(String command) throws IOException {
        byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
        if (bytes.length + 2 > commands.remaining()) {
            flush();
        }
        if (bytes.length + 2 > commands.capacity()) {
            throw new IOException("command too long (" + bytes.length + " bytes)");
        }
        commands.put(bytes).put((byte) '\r').put((byte) '\n');
    }

    private void command(String command) throws IOException {
        commands.clear();
        append(command);
        flush();
    }

    private SmtpReply flushAndAwait() throws IOException {
        flush();
        return await();
    }

    private void flush() throws IOException {
        commands.flip();
        writeFully(commands);
        commands.clear();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        deadlineNanos = System.nanoTime() + commandTimeoutNanos;
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } finally {
            deadlineNanos = Long.MAX_VALUE;
        }
    }

    private SmtpReply await() throws IOException {
        return await(commandTimeoutNanos);
    }

    /** The reply to the end of the content: RFC 5321 4.5.3.2.6 allows the peer longer here. */
    private SmtpReply awaitFinal() throws IOException {
        return await(commandTimeoutNanos * 2);
    }

    private SmtpReply await(long timeoutNanos) throws IOException {
        deadlineNanos = System.nanoTime() + timeoutNanos;
        try {
            return replies.read();
        } finally {
            deadlineNanos = Long.MAX_VALUE;
        }
    }

    private static void expectPositive(SmtpReply r) throws IOException {
        if (!r.positive()) {
            throw new IOException("RSET refused: " + r.oneLine());
        }
    }

    private static void fill(SmtpReply[] out, SmtpReply r) {
        java.util.Arrays.fill(out, r);
    }

    private static boolean anyPositive(SmtpReply[] out) {
        for (SmtpReply r : out) {
            if (r != null && r.positive()) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyCode(SmtpReply[] out, int code) {
        for (SmtpReply r : out) {
            if (r != null && r.code() == code) {
                return true;
            }
        }
        return false;
    }

    private static String reason(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    @Override
    public String toString() {
        return "OutboundConnection[" + hop + "]";
    }
}

package dev.tern.delivery;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.io.DeadlineSweeper;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.tls.TlsChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.BufferOverflowException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP client connection to a next hop (RFC 5321 client side): greeting, EHLO with HELO fallback, then mail
 * transactions with PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), CHUNKING/BDAT (RFC 3030) and DSN
 * parameters (RFC 3461) when the peer offers them. The body streams from the journal through a pooled direct buffer;
 * no heap copy of it is made. With PIPELINING and CHUNKING a transaction that fits the buffer is one write and one read
 * of all its replies; commands are encoded straight into a direct buffer ({@link CommandEncoder}).
 *
 * <p>Threading: used by one virtual thread at a time (a delivery worker, or the connection cache between uses).
 * Blocking reads and writes are bounded by a deadline that a {@link DeadlineSweeper} enforces by closing the channel.
 * Ownership: the caller closes it ({@link #quit()} or {@link #abort()}).
 */
final class OutboundConnection implements DeadlineSweeper.Expirable {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundConnection.class);
    static final int COMMAND_BUFFER = 16 * 1024;

    private final HostPort hop;
    private final SocketChannel channel;
    /** Replies from the channel, or from {@link #tls} once STARTTLS is done. */
    private ReplyReader replies;
    /** Set once STARTTLS's handshake is done: every write goes through it. */
    private TlsChannel tls;
    /** Commands, and the small last chunks of pipelined transactions: a batch of 1 KiB messages in one write. */
    private final ByteBuffer commands = ByteBuffer.allocateDirect(COMMAND_BUFFER);
    private final BufferPool pool;
    private final DeadlineSweeper sweeper;
    private final long commandTimeoutNanos;
    /** Gathering write of the buffered commands and a chunk of content: one system call for both. */
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private EhloCapabilities caps = EhloCapabilities.NONE;
    /** Whether the server may hold state from an unfinished or failed transaction (then RSET first). */
    private boolean needsReset;
    /** The 421 of the current transaction, once one came. */
    private SmtpReply closingReply;
    /** BDAT chunks of the current transaction written but not answered yet (pipelined). */
    private int chunksUnanswered;
    /** The first refused chunk's reply, else the last chunk's. */
    private SmtpReply chunkOutcome;
    private boolean lastChunkSent;
    private boolean finalDrain;
    private long storedSeen;
    /** Writes made so far (tells whether a transaction's commands already left the buffer). */
    private long writes;
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

    /** As below, never starting TLS. */
    static OutboundConnection open(HostPort hop, String heloName, BufferPool pool, DeadlineSweeper sweeper,
                                   long connectTimeoutMillis, long commandTimeoutMillis) throws IOException {
        return open(hop, heloName, pool, sweeper, connectTimeoutMillis, commandTimeoutMillis, NextHopTls.off());
    }

    /**
     * Connects, reads the greeting and says EHLO (HELO when EHLO gets a 5xx); when the hop offers STARTTLS and
     * {@code tls} wants it, starts TLS and says EHLO again.
     */
    static OutboundConnection open(HostPort hop, String heloName, BufferPool pool, DeadlineSweeper sweeper,
                                   long connectTimeoutMillis, long commandTimeoutMillis, NextHopTls tls)
            throws IOException {
        SocketChannel ch = SocketChannel.open();
        OutboundConnection c = null;
        try {
            ch.socket().connect(new InetSocketAddress(hop.host(), hop.port()), (int) connectTimeoutMillis);
            ch.socket().setTcpNoDelay(true);
            c = new OutboundConnection(hop, ch, pool, sweeper, TimeUnit.MILLISECONDS.toNanos(commandTimeoutMillis));
            sweeper.register(c);
            c.handshake(heloName);
            if (c.caps.starttls() && tls.wanted(hop)) {
                c.startTls(heloName, tls);
            }
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
        hello(heloName, true);
    }

    /**
     * EHLO, which sets {@link #caps}; with {@code heloFallback}, a 5xx to it is followed by HELO (RFC 5321 3.2: a
     * server that does not know EHLO answers 5xx), and the hop is taken to offer no extension.
     */
    private void hello(String heloName, boolean heloFallback) throws IOException {
        command("EHLO " + heloName);
        SmtpReply ehlo = await();
        if (ehlo.positive()) {
            caps = EhloCapabilities.parse(ehlo);
            return;
        }
        if (!heloFallback || !ehlo.permanentFailure()) {
            throw new HopFailure(ehlo);
        }
        command("HELO " + heloName);
        SmtpReply helo = await();
        if (!helo.positive()) {
            throw new HopFailure(helo);
        }
        caps = EhloCapabilities.NONE;
    }

    /**
     * STARTTLS (RFC 3207), then EHLO again: what the hop said before TLS no longer counts. A refusal of STARTTLS
     * leaves the connection in plaintext (opportunistic TLS); a failed handshake fails the attempt, and the hop gets
     * plaintext for a while ({@link NextHopTls}).
     */
    private void startTls(String heloName, NextHopTls policy) throws IOException {
        command("STARTTLS");
        SmtpReply go = await();
        if (go.code() != 220) {
            LOG.info("{} refused STARTTLS ({}): going on in plaintext", hop, go.oneLine());
            return;
        }
        if (replies.hasBuffered()) {
            // Bytes after the 220 came in plaintext: they must not count as said inside TLS (CVE-2011-0411).
            policy.failed(hop);
            throw new HopFailure(SmtpReply.local(451, "4.7.5", hop + " sent more after its 220 to STARTTLS; the"
                    + " next attempt goes in plaintext"));
        }
        TlsChannel t = new TlsChannel(channel, policy.newEngine(hop));
        deadlineNanos = System.nanoTime() + commandTimeoutNanos;
        try {
            t.handshake();
        } catch (IOException e) {
            policy.failed(hop);
            throw new HopFailure(SmtpReply.local(451, "4.7.5", "TLS handshake with " + hop + " failed ("
                    + e.getMessage() + "); the next attempt goes in plaintext"));
        } finally {
            deadlineNanos = Long.MAX_VALUE;
        }
        tls = t;
        replies = new ReplyReader(t.inputStream());
        LOG.debug("TLS with {}: {}", hop, t.describe());
        caps = EhloCapabilities.NONE;
        hello(heloName, false); // the hop knew EHLO before TLS
    }

    /** Whether the connection runs over TLS. */
    boolean encrypted() {
        return tls != null;
    }

    /** As {@link #sendAll} for one transaction. */
    TransactionResult send(EnvelopeRecord env, int[] rcpts, byte[] prefix, long storedLength, BodyReader body) {
        return sendAll(List.of(new MailTransaction(env, rcpts, prefix, storedLength, body))).getFirst();
    }

    /**
     * Runs mail transactions in order and returns, for each, a reply per recipient. With PIPELINING and CHUNKING they
     * go out together: RFC 2920 3.1 lets a client pipeline whole transactions and RFC 3030 4.2 lets BDAT follow RCPT
     * unanswered, so their commands and content go in as few writes as the command buffer allows (one for a few small
     * messages), then every reply is read in order. Otherwise one after the other. Never throws for a peer or network
     * problem: those become local 4xx replies for the recipients that had no final answer yet, and the connection is
     * marked unusable.
     */
    List<TransactionResult> sendAll(List<MailTransaction> txs) {
        Attempt[] attempts = new Attempt[txs.size()];
        for (int t = 0; t < attempts.length; t++) {
            attempts[t] = new Attempt(txs.get(t), refusedBeforeSending(txs.get(t)));
        }
        closingReply = null;
        try {
            if (caps.pipelining() && caps.chunking()) {
                pipelinedChunks(attempts);
            } else {
                for (Attempt a : attempts) {
                    if (a.local != null) {
                        continue;
                    }
                    if (closingReply != null) {
                        Arrays.fill(a.out, closingReply); // RFC 5321 3.8: the server has gone
                    } else {
                        transactions++;
                        if (caps.pipelining()) {
                            pipelinedData(a);
                        } else {
                            stepByStep(a);
                        }
                    }
                    a.closing = closingReply != null;
                    a.done = true;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            broken = true;
            SmtpReply lost = SmtpReply.local(451, "4.4.2", "connection to " + hop + " lost: " + reason(e));
            giveOpen(attempts, lost);
        } catch (JournalException e) {
            broken = true; // the peer may be in the middle of the content: never reuse
            giveOpen(attempts, SmtpReply.local(451, "4.3.0", "local error reading the queued message: "
                    + e.getMessage()));
        }
        List<TransactionResult> results = new ArrayList<>(attempts.length);
        for (Attempt a : attempts) {
            results.add(a.local != null ? TransactionResult.all(a.local, a.out.length)
                    : new TransactionResult(List.of(a.out), a.closing));
        }
        return results;
    }

    /** What the peer already said it will not take gets a local reply and is never sent. */
    private SmtpReply refusedBeforeSending(MailTransaction tx) {
        if (caps.maxSize() > 0 && tx.length() > caps.maxSize()) {
            // RFC 1870 6: do not send what the peer already said it will not take.
            return SmtpReply.local(552, "5.3.4", "message size " + tx.length() + " exceeds the limit of " + hop
                    + " (" + caps.maxSize() + ")");
        }
        if (tx.envelope().smtputf8() && !caps.smtputf8()) {
            // RFC 6531 3.4: a message that needs SMTPUTF8 must not go to a server that does not offer it.
            return SmtpReply.local(553, "5.6.7", hop + " does not support SMTPUTF8, which this message needs");
        }
        if (tx.envelope().body() == Envelope.BODY_8BITMIME && !caps.eightBitMime() && holdsEightBit(tx)) {
            // RFC 6152 3: 8-bit content must not go to a server that did not offer 8BITMIME; Tern does not convert
            // it to 7-bit MIME, so it returns the message (RFC 3463 X.6.3: conversion required but not supported).
            return SmtpReply.local(554, "5.6.3", hop + " does not support 8BITMIME, and this message holds 8-bit"
                    + " content");
        }
        return null;
    }

    /**
     * Whether the stored body holds an octet above 127 (declared 8BITMIME is often 7-bit in fact, and then goes as
     * it is). A body that cannot be read is left to the send, which reports that failure itself.
     */
    private static boolean holdsEightBit(MailTransaction tx) {
        boolean[] found = {false};
        try {
            tx.body().read(piece -> {
                for (int i = piece.position(); i < piece.limit() && !found[0]; i++) {
                    found[0] = piece.get(i) < 0;
                }
            });
        } catch (JournalException e) {
            return false;
        }
        return found[0];
    }

    /**
     * PIPELINING with CHUNKING: every transaction's [RSET] MAIL RCPT... "BDAT n LAST" and content is written before
     * any reply is read. The server consumes a chunk even when it refuses it (RFC 3030 2), so the replies stay in step
     * whatever is refused. A transaction after another one in the same batch starts with RSET: whether the server
     * still holds state from the one before (all recipients refused) is not known when it is written.
     */
    private void pipelinedChunks(Attempt[] attempts) throws IOException, JournalException {
        commands.clear();
        int written = 0;
        JournalException unreadable = null;
        for (; written < attempts.length; written++) {
            Attempt a = attempts[written];
            if (a.local != null) {
                continue;
            }
            int start = commands.position();
            long writesBefore = writes;
            try {
                transactions++;
                a.reset = appendEnvelope(a.tx);
                writeChunks(a.tx);
                a.chunks = chunksUnanswered;
            } catch (JournalException e) {
                // This one cannot be sent: the transactions before it still go (and get their replies).
                if (writes == writesBefore) {
                    commands.position(start);
                }
                unreadable = e;
                break;
            }
        }
        if (commands.position() > 0) {
            flush();
        }
        for (int t = 0; t < written; t++) {
            Attempt a = attempts[t];
            if (a.local != null) {
                continue;
            }
            SmtpReply rset = a.reset ? next() : null;
            if (closingReply != null) {
                // RFC 5321 3.8: the server closed during an earlier transaction (or at this RSET).
                Arrays.fill(a.out, closingReply);
                a.closing = true;
                a.done = true;
                continue;
            }
            if (rset != null) {
                expectPositive(rset);
            }
            SmtpReply mail = next();
            for (int i = 0; i < a.out.length; i++) {
                a.out[i] = next();
            }
            chunkOutcome = null;
            for (int c = 0; c < a.chunks; c++) {
                noteChunkReply(nextFinal());
            }
            if (t == written - 1) {
                expectNothingMore(); // every command of the batch has had its reply
            }
            conclude(mail, a.out, chunkOutcome);
            a.closing = closingReply != null;
            a.done = true;
        }
        if (unreadable != null) {
            throw unreadable;
        }
    }

    /**
     * PIPELINING without CHUNKING: [RSET] MAIL RCPT... DATA in one write (DATA ends the group, RFC 2920 3.1), then
     * the content after its 354.
     */
    private void pipelinedData(Attempt a) throws IOException, JournalException {
        MailTransaction tx = a.tx;
        SmtpReply[] out = a.out;
        commands.clear();
        boolean reset = appendEnvelope(tx);
        appendFixed(CommandEncoder.DATA);
        flush();
        if (reset) {
            expectPositive(next());
        }
        SmtpReply mail = next();
        for (int i = 0; i < out.length; i++) {
            out[i] = next();
        }
        SmtpReply go = nextGo();
        if (go.code() != 354) {
            conclude(mail, out, go);
        } else if (mail.positive() && anyPositive(out)) {
            writeData(tx);
            conclude(mail, out, lastReply());
        } else {
            // RFC 2920 3.1: the server should have refused DATA; end the empty content so the dialogue stays in step.
            commands.clear();
            appendFixed(CommandEncoder.DOT);
            flush();
            next();
            conclude(mail, out, null);
        }
    }

    /** Without PIPELINING: one command, one reply (RFC 5321 4.1). */
    private void stepByStep(Attempt a) throws IOException, JournalException {
        MailTransaction tx = a.tx;
        SmtpReply[] out = a.out;
        if (needsReset) {
            commands.clear();
            appendFixed(CommandEncoder.RSET);
            expectPositive(flushAndNext());
        }
        needsReset = true; // until a reply says this transaction ended cleanly
        commands.clear();
        appendMail(tx.envelope(), tx.length());
        SmtpReply mail = flushAndNext();
        if (!mail.positive()) {
            conclude(mail, out, null);
            return;
        }
        for (int i = 0; i < out.length; i++) {
            commands.clear();
            appendRcpt(tx.envelope().recipients().get(tx.recipients()[i]));
            out[i] = flushAndNext();
        }
        if (!anyPositive(out)) {
            return;
        }
        if (caps.chunking()) {
            commands.clear();
            writeChunks(tx);
            conclude(mail, out, chunkOutcome);
            return;
        }
        commands.clear();
        appendFixed(CommandEncoder.DATA);
        flush();
        SmtpReply go = nextGo();
        if (go.code() != 354) {
            conclude(mail, out, go);
            return;
        }
        writeData(tx);
        conclude(mail, out, lastReply());
    }

    /**
     * Maps the replies to per-recipient outcomes: a refused MAIL answers for everyone, a refused RCPT for its
     * recipient, and the reply to the content ({@code done}) for every accepted recipient. Only a transaction whose
     * content was accepted leaves the server's state clean (RFC 5321 4.1.1.4, RFC 3030 2); any other needs RSET first.
     */
    private void conclude(SmtpReply mail, SmtpReply[] out, SmtpReply done) {
        needsReset = true;
        if (!mail.positive()) {
            Arrays.fill(out, mail);
            return;
        }
        if (!anyPositive(out)) {
            return;
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i].positive()) {
                out[i] = done;
            }
        }
        needsReset = !done.positive();
    }

    /** The content in DATA mode (dot-stuffed), in as few writes as the pooled buffer allows, the final dot included. */
    private void writeData(MailTransaction tx) throws IOException, JournalException {
        ByteBuffer buf = pool.acquire();
        if (buf == null) {
            throw new IOException("buffer pool exhausted");
        }
        try {
            BodyEncoder enc = new BodyEncoder(buf, true, this::writeFully);
            if (tx.prefix().length > 0) {
                enc.encode(ByteBuffer.wrap(tx.prefix()));
            }
            tx.body().read(piece -> {
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
    }

    /**
     * The content as BDAT chunks (RFC 3030): a body that fits the pooled buffer is one "BDAT n LAST"; a larger one
     * goes in buffer-sized chunks, the last one LAST. A stored piece that is already canonical and larger than the
     * room left goes out as its own chunk, without a copy. Pipelined, a small last chunk stays in the command buffer
     * for the caller to write with what follows, and the chunk replies are read later ({@link #chunksUnanswered});
     * else each is read before the next chunk goes.
     */
    private void writeChunks(MailTransaction tx) throws IOException, JournalException {
        ByteBuffer buf = pool.acquire();
        if (buf == null) {
            throw new IOException("buffer pool exhausted");
        }
        chunksUnanswered = 0;
        chunkOutcome = null;
        lastChunkSent = false;
        finalDrain = false;
        storedSeen = 0;
        long storedLength = tx.storedLength();
        try {
            BodyEncoder enc = new BodyEncoder(buf, false, this::encodedChunk);
            if (tx.prefix().length > 0) {
                enc.encode(ByteBuffer.wrap(tx.prefix()));
            }
            tx.body().read(piece -> {
                try {
                    storedSeen += piece.remaining();
                    if (piece.remaining() > buf.remaining() && enc.canonical(piece)) {
                        enc.drain();
                        // The last stored piece ending in CRLF is the whole rest of the content: it can be LAST.
                        boolean last = storedSeen == storedLength && piece.get(piece.limit() - 1) == '\n';
                        chunk(piece.duplicate(), last);
                        lastChunkSent = last;
                        enc.skipped(piece);
                    } else {
                        enc.encode(piece);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            enc.end();
            if (!lastChunkSent) {
                finalDrain = true;
                enc.drain();
            }
            if (!lastChunkSent) {
                chunk(buf.clear().limit(0), true); // the content ended exactly at a chunk boundary: "BDAT 0 LAST"
            }
        } finally {
            pool.release(buf);
        }
    }

    /** The encoder's sink: a full buffer is a chunk; the drain after {@link BodyEncoder#end()} is the last one. */
    private void encodedChunk(ByteBuffer bytes) throws IOException {
        chunk(bytes, finalDrain);
        lastChunkSent = finalDrain;
    }

    /**
     * "BDAT n [LAST]" after whatever commands are buffered, and the chunk. Pipelined, a last chunk that fits is copied
     * into the command buffer (a few KiB: cheaper than a system call); any other goes at once, in one gathering write
     * with the buffered commands.
     */
    private void chunk(ByteBuffer bytes, boolean last) throws IOException {
        if (commands.remaining() < CommandEncoder.MAX_BDAT_LINE) {
            flush();
        }
        CommandEncoder.bdat(commands, bytes.remaining(), last);
        if (last && caps.pipelining() && bytes.remaining() <= commands.remaining()) {
            commands.put(bytes);
        } else {
            commands.flip();
            gather[0] = commands;
            gather[1] = bytes;
            deadlineNanos = System.nanoTime() + commandTimeoutNanos;
            try {
                if (tls != null) {
                    tls.write(commands); // writes all: the plaintext loop below finds nothing left
                    tls.write(bytes);
                }
                while (commands.hasRemaining() || bytes.hasRemaining()) {
                    channel.write(gather);
                }
            } finally {
                deadlineNanos = Long.MAX_VALUE;
                gather[1] = null;
                commands.clear();
                writes++;
            }
        }
        if (caps.pipelining()) {
            chunksUnanswered++;
        } else {
            noteChunkReply(lastReply());
        }
    }

    /** The content's outcome is the first refused chunk's reply, else the reply to the last chunk. */
    private void noteChunkReply(SmtpReply r) {
        if (chunkOutcome == null || chunkOutcome.positive()) {
            chunkOutcome = r;
        }
    }

    /** Gives {@code r} to every recipient of the unfinished transactions that has no final answer yet. */
    private void giveOpen(Attempt[] attempts, SmtpReply r) {
        for (Attempt a : attempts) {
            if (a.local == null && !a.done) {
                replaceOpen(a.out, r);
                a.closing = closingReply != null;
            }
        }
    }

    /** One transaction on its way: what to send, how it was sent, and its replies as they come. */
    private static final class Attempt {
        final MailTransaction tx;
        final SmtpReply[] out;
        /** A local refusal: the transaction is not sent (RFC 1870 SIZE, RFC 6531 SMTPUTF8). */
        final SmtpReply local;
        boolean reset;
        int chunks;
        boolean done;
        boolean closing;

        Attempt(MailTransaction tx, SmtpReply local) {
            this.tx = tx;
            this.out = new SmtpReply[tx.recipients().length];
            this.local = local;
        }
    }

    /** Says QUIT politely (bounded by the deadline) and closes. */
    void quit() {
        if (!broken && channel.isOpen()) {
            try {
                commands.clear();
                appendFixed(CommandEncoder.QUIT);
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
        sweeper.unregister(this);
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

    @Override
    public long deadlineNanos() {
        return deadlineNanos;
    }

    /** Called by the sweeper once the current operation is overdue: closes the channel, which fails the worker. */
    @Override
    public void expire(long nowNanos) {
        LOG.info("timeout talking to {}: closing", hop);
        broken = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close of {} failed: {}", hop, e.toString());
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
        if (!broken && channel.isOpen()) {
            try {
                // Between transactions the peer owes nothing: input now is a reply out of step, or a 421 before it
                // closes an idle connection (RFC 5321 3.8). Either way the dialogue cannot go on.
                broken = replies.hasPending();
            } catch (IOException e) {
                broken = true;
            }
        }
        return !broken && channel.isOpen();
    }

    void idleSince(long nanos) {
        idleSinceNanos = nanos;
    }

    long idleSince() {
        return idleSinceNanos;
    }

    /**
     * Appends the transaction's pipelined envelope: RSET when the server may still hold state from the last
     * transaction, MAIL, and a RCPT per recipient. Returns whether RSET went first (its reply comes first).
     */
    private boolean appendEnvelope(MailTransaction tx) throws IOException {
        boolean reset = needsReset;
        needsReset = true; // until a reply says this transaction ended cleanly
        if (reset) {
            appendFixed(CommandEncoder.RSET);
        }
        appendMail(tx.envelope(), tx.length());
        for (int rcpt : tx.recipients()) {
            appendRcpt(tx.envelope().recipients().get(rcpt));
        }
        return reset;
    }

    /** Appends a fixed command line, writing out what is buffered first when there is no room. */
    private void appendFixed(byte[] line) throws IOException {
        if (commands.remaining() < line.length) {
            flush();
        }
        commands.put(line);
    }

    private void appendMail(EnvelopeRecord env, long bodyLength) throws IOException {
        for (int attempt = 0; ; attempt++) {
            int mark = commands.position();
            try {
                CommandEncoder.mail(commands, env, bodyLength, caps);
                return;
            } catch (BufferOverflowException e) {
                makeRoom(mark, attempt);
            }
        }
    }

    private void appendRcpt(EnvelopeRecord.Recipient r) throws IOException {
        for (int attempt = 0; ; attempt++) {
            int mark = commands.position();
            try {
                CommandEncoder.rcpt(commands, r, caps);
                return;
            } catch (BufferOverflowException e) {
                makeRoom(mark, attempt);
            }
        }
    }

    /** A command did not fit after {@code mark}: drop its partial bytes and write out the ones before it. */
    private void makeRoom(int mark, int attempt) throws IOException {
        commands.position(mark);
        if (mark == 0 || attempt > 0) {
            throw new IOException("command longer than the " + commands.capacity() + "-byte command buffer");
        }
        flush();
    }

    private void command(String command) throws IOException {
        commands.clear();
        try {
            CommandEncoder.line(commands, command);
        } catch (BufferOverflowException e) {
            throw new IOException("command longer than the " + commands.capacity() + "-byte command buffer");
        }
        flush();
    }

    /** Sends what is buffered and reads its reply; after a 421 nothing is sent and the 421 stands for the reply. */
    private SmtpReply flushAndNext() throws IOException {
        if (closingReply != null) {
            commands.clear();
            return closingReply;
        }
        flush();
        SmtpReply r = next();
        expectNothingMore(); // one command, one reply: the peer has nothing else to answer
        return r;
    }

    private void flush() throws IOException {
        commands.flip();
        writeFully(commands);
        commands.clear();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        deadlineNanos = System.nanoTime() + commandTimeoutNanos;
        try {
            if (tls != null) {
                tls.write(b);
            }
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } finally {
            deadlineNanos = Long.MAX_VALUE;
            writes++;
        }
    }

    private SmtpReply await() throws IOException {
        return await(commandTimeoutNanos);
    }

    /**
     * The next reply of the transaction. RFC 5321 3.8: after a 421 the server closes the connection, so every reply
     * still expected is taken to be that 421 and nothing more is read.
     */
    private SmtpReply next() throws IOException {
        return next(commandTimeoutNanos, false);
    }

    /** The reply to the end of the content when no other command is outstanding: nothing may follow it. */
    private SmtpReply lastReply() throws IOException {
        SmtpReply r = nextFinal();
        expectNothingMore();
        return r;
    }

    /** The reply to the end of the content (or a chunk of it): RFC 5321 4.5.3.2.6 allows the peer longer here. */
    private SmtpReply nextFinal() throws IOException {
        return next(commandTimeoutNanos * 2, false);
    }

    /** {@code goExpected}: this is DATA's reply, where 354 is the one intermediate reply that fits. */
    private SmtpReply next(long timeoutNanos, boolean goExpected) throws IOException {
        if (closingReply != null) {
            return closingReply;
        }
        SmtpReply r = await(timeoutNanos);
        if (r.code() == 421) {
            closingReply = r;
            broken = true;
        }
        if (r.code() >= 300 && r.code() < 400 && !goExpected) {
            // RFC 5321 4.2.1, 4.3.2: only DATA has an intermediate reply; anywhere else the dialogue is lost.
            throw new ProtocolException(hop + " answered " + r.oneLine() + " where no intermediate reply fits");
        }
        return r;
    }

    /**
     * The reply to DATA: 354, or a refusal (RFC 5321 4.3.2). A completion (2yz) would leave the content unsent while
     * looking like the reply to it, so it breaks the dialogue like any reply out of place.
     */
    private SmtpReply nextGo() throws IOException {
        SmtpReply r = next(commandTimeoutNanos, true);
        if (r.code() != 354 && r.code() < 400) {
            throw new ProtocolException(hop + " answered DATA with " + r.oneLine() + " instead of 354");
        }
        expectNothingMore(); // after DATA the peer waits for the content, or has refused it
        return r;
    }

    /** A reply nobody asked for shifts every later one onto the wrong command: the dialogue is lost. */
    private void expectNothingMore() throws IOException {
        if (replies.hasBuffered()) {
            throw new ProtocolException(hop + " sent a reply no command asked for");
        }
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

    /** Gives {@code r} to every recipient without a final answer yet (none, or a positive RCPT reply). */
    private static void replaceOpen(SmtpReply[] out, SmtpReply r) {
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null || out[i].positive()) {
                out[i] = r;
            }
        }
    }

    private static boolean anyPositive(SmtpReply[] out) {
        for (SmtpReply r : out) {
            if (r != null && r.positive()) {
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

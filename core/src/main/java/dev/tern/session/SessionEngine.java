package dev.tern.session;

import dev.tern.buffer.Ascii;
import dev.tern.buffer.BufferPool;
import dev.tern.config.SmtpSettings;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import dev.tern.protocol.BdatDecoder;
import dev.tern.protocol.Command;
import dev.tern.protocol.CommandParser;
import dev.tern.protocol.ContentRefusal;
import dev.tern.protocol.DataDecoder;
import dev.tern.protocol.LineFramer;
import dev.tern.protocol.ParseStatus;
import dev.tern.protocol.Replies;
import dev.tern.protocol.Reply;
import dev.tern.protocol.ReplyWriter;
import dev.tern.protocol.Verb;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RFC 5321 server state machine for one connection, without sockets: {@link #process} consumes client bytes from
 * an input buffer and appends replies to an output buffer, so it can be driven by a {@link Session} or by a test
 * feeding a transcript.
 *
 * <p>Driving contract: {@code in} is in read mode (unread bytes between position and limit), {@code out} in write
 * mode. {@link #process} handles every complete command in {@code in} (PIPELINING, RFC 2920) and returns
 * <ul>
 * <li>{@link #NEED_INPUT}: no complete command left; flush {@code out}, compact {@code in}, read, call again;</li>
 * <li>{@link #FLUSH}: flush {@code out} now, then call again (before 354, before blocking on a journal commit, or
 *     when {@code out} is nearly full);</li>
 * <li>{@link #CLOSE}: flush {@code out} and close the connection (QUIT, error limit);</li>
 * <li>{@link #START_TLS}: a STARTTLS is accepted ({@code in} is already emptied, RFC 3207 4.2): flush {@code out},
 *     then either {@link #tlsReady} (the 220), flush, run the handshake, {@link #tlsStarted} and read through TLS, or
 *     {@link #tlsUnavailable} (454) when the server has no room for another TLS session.</li>
 * </ul>
 * Message content goes into pooled {@link MessageBody} chunks only while DATA/BDAT content is received; the commit
 * blocks the calling (virtual) thread until the journal says the message is durable, then 250 is written.
 *
 * <p>Threading: confined to the session's thread. Ownership: the engine owns its body chunks and returns them on
 * every path; {@link #release()} must be called once when the session ends.
 */
public final class SessionEngine {
    public static final int NEED_INPUT = 0;
    public static final int FLUSH = 1;
    public static final int CLOSE = 2;
    public static final int START_TLS = 3;

    private static final Logger LOG = LoggerFactory.getLogger(SessionEngine.class);
    /** Room kept in {@code out} before handling a command: the longest reply plus a following 421. */
    static final int OUT_RESERVE = ReplyWriter.MAX_REPLY_LENGTH + 256;
    private static final int LOG_INPUT_MAX = 100;
    private static final Reply RESOURCES_EXHAUSTED = Reply.of(421, "4.3.2", "Insufficient resources, try again later");
    static final byte[] LOCAL_ERROR_GOODBYE = RESOURCES_EXHAUSTED.bytes(true);
    private static final byte[] WITH_SMTP = ascii("SMTP");
    private static final byte[] WITH_ESMTP = ascii("ESMTP");
    private static final byte[] WITH_UTF8SMTP = ascii("UTF8SMTP");
    /** RFC 3848, RFC 6531 3.7.3: the same over TLS. */
    private static final byte[] WITH_ESMTPS = ascii("ESMTPS");
    private static final byte[] WITH_UTF8SMTPS = ascii("UTF8SMTPS");

    private enum State {
        /** Connected, no HELO/EHLO yet. */
        CONNECTED,
        /** Greeted, no transaction. */
        READY,
        /** After MAIL (and any RCPTs): a transaction is open. */
        MAIL,
        /** Receiving DATA content. */
        DATA,
        /** Receiving (or discarding) a BDAT chunk. */
        BDAT
    }

    private final SmtpSettings settings;
    private final boolean tlsOffered;
    /** TLS is running: STARTTLS is neither offered nor accepted again. */
    private boolean tlsActive;
    /** STARTTLS is accepted: the session decides whether it can run a handshake before anything else. */
    private boolean tlsPending;
    private final Journal journal;
    private final ClientInfo client;
    private final SessionCounters counters;
    private final byte[] hostname;
    /** The mailbox {@code RCPT TO:<Postmaster>} is relayed to, or null when none is set. */
    private final ByteBuffer postmaster;
    private final boolean clientIpv6;
    private final LineFramer framer;
    private final CommandParser parser;
    private final Command cmd = new Command();
    private final ReplyWriter writer = new ReplyWriter();
    private final DataDecoder dataDecoder;
    private final BdatDecoder bdatDecoder;
    private final Envelope envelope = new Envelope();
    private final MessageBody body;
    private final ReceivedHeader received;

    private State state = State.CONNECTED;
    private boolean ehlo;
    private byte[] helo = new byte[0];
    private int errors;
    private boolean closing;

    // The open transaction.
    private boolean smtputf8;
    private final byte[] sender = new byte[1024];
    private int senderLen;
    private final byte[] firstRcpt = new byte[1024];
    private int firstRcptLen;
    /** A RCPT was tried in this transaction (so DATA with no recipient is 554, not 503: RFC 5321 3.3). */
    private boolean rcptTried;
    /** Content could not be stored (pool exhausted): read it to the end, then answer 451. */
    private boolean storageFailed;
    /** The body may hold chunks (a message was started since the last release). */
    private boolean bodyHeld;
    /** A complete message waits for its journal commit, done once pending replies are flushed. */
    private boolean commitPending;
    private long contentLength;

    // BDAT (RFC 3030).
    private boolean bdatStarted;
    private boolean bdatLast;
    /** Octets of a refused chunk still to be skipped, and the reply owed once it is skipped. */
    private long discardRemaining;
    private Reply discardReply;
    /** A small scratch buffer for content that is read but not stored; allocated only when first needed. */
    private ByteBuffer sink;

    public SessionEngine(SmtpSettings settings, Journal journal, BufferPool bodyBuffers, ClientInfo client,
                         SessionCounters counters) {
        this(settings, journal, bodyBuffers, client, counters, false);
    }

    /** As above; {@code tlsOffered}: EHLO offers STARTTLS and the session can run a handshake. */
    public SessionEngine(SmtpSettings settings, Journal journal, BufferPool bodyBuffers, ClientInfo client,
                         SessionCounters counters, boolean tlsOffered) {
        this.tlsOffered = tlsOffered;
        this.settings = settings;
        this.journal = journal;
        this.client = client;
        this.counters = counters;
        this.hostname = settings.hostname().getBytes(StandardCharsets.US_ASCII);
        this.postmaster = settings.postmaster().map(m -> ByteBuffer.wrap(ascii(m)).asReadOnlyBuffer()).orElse(null);
        this.clientIpv6 = client.address() instanceof java.net.Inet6Address;
        this.framer = new LineFramer(maxFramedLine(settings));
        this.parser = new CommandParser(settings.maxCommandLine());
        this.dataDecoder = new DataDecoder(settings.maxMessageSize(), settings.maxDataLine(),
                settings.bareLineEndings());
        this.bdatDecoder = new BdatDecoder(settings.maxMessageSize(), settings.maxDataLine(),
                settings.bareLineEndings());
        this.body = new MessageBody(bodyBuffers);
        this.received = new ReceivedHeader(hostname);
    }

    /** The longest line the framer lets through; the parser then applies each verb's own limit. */
    static int maxFramedLine(SmtpSettings settings) {
        return CommandParser.framerLimit(settings.maxCommandLine());
    }

    /** The 421 sent by the listener to a connection over a limit (before any EHLO, so with the enhanced code). */
    static byte[] tooManyConnections(SmtpSettings settings) {
        return Replies.TOO_MANY_CONNECTIONS.bytes(true);
    }

    /** Writes the 220 greeting (RFC 5321 4.3.1). */
    public void greet(ByteBuffer out) {
        writer.target(out).writeGreeting(hostname);
    }

    /** Writes 554 5.5.1 for a client that talked before the greeting; the session then closes. */
    public void earlyTalker(ByteBuffer out) {
        writer.target(out);
        writer.enhancedCodes(true);
        writer.write(Replies.EARLY_TALKER);
    }

    /** Writes 421 4.4.2 after a command or data timeout (RFC 5321 4.5.3.2); the session then closes. */
    public void timeout(ByteBuffer out) {
        abortTransaction();
        writer.target(out).write(Replies.TIMEOUT);
    }

    /** Writes 421 4.3.2: the server is shutting down (RFC 5321 3.8). */
    public void shutdown(ByteBuffer out) {
        abortTransaction();
        writer.target(out).write(Replies.SHUTDOWN);
    }

    /** The client went away; nothing unacknowledged is kept. */
    public void disconnected() {
        if (state == State.DATA || state == State.BDAT || bdatStarted) {
            LOG.debug("{} disconnected during message content", client);
        }
        abortTransaction();
    }

    /** True while DATA or BDAT content is expected: the data timeout applies instead of the command timeout. */
    public boolean receivingContent() {
        return state == State.DATA || state == State.BDAT;
    }

    /** Returns every held buffer to its pool. Call once, when the session ends (any path). */
    public void release() {
        abortTransaction();
        body.release();
    }

    /** Handles everything that can be handled in {@code in}; see the class comment for the return values. */
    public int process(ByteBuffer in, ByteBuffer out) {
        writer.target(out);
        while (true) {
            if (closing) {
                return CLOSE;
            }
            if (tlsPending) {
                tlsPending = false;
                return START_TLS;
            }
            if (commitPending) {
                if (out.position() > 0) {
                    return FLUSH; // RFC 2920: replies so far go out before we block on the commit
                }
                commit();
                continue;
            }
            if (out.remaining() < OUT_RESERVE) {
                return FLUSH;
            }
            switch (state) {
                case DATA -> {
                    if (!receiveData(in)) {
                        return NEED_INPUT;
                    }
                }
                case BDAT -> {
                    if (!receiveChunk(in)) {
                        return NEED_INPUT;
                    }
                }
                default -> {
                    int status = framer.next(in);
                    if (status == LineFramer.NEED_MORE) {
                        return NEED_INPUT;
                    }
                    if (status == LineFramer.LINE) {
                        if (command(in, framer.lineStart(), framer.lineEnd())) {
                            return FLUSH;
                        }
                    } else {
                        logBadInput(in, status);
                        error(Replies.forStatus(status));
                    }
                }
            }
        }
    }

    /** Handles one command line. Returns true when the output must be flushed before anything else (354). */
    private boolean command(ByteBuffer in, int start, int end) {
        int status = parser.parse(in, start, end, cmd);
        Verb verb = cmd.verb();
        if (status != ParseStatus.OK) {
            logBadInput(in, status);
            if (verb == Verb.RCPT && state == State.MAIL) {
                rcptTried = true;
            }
            if (verb == Verb.BDAT) {
                // A malformed BDAT has no usable chunk size, so its octets cannot be skipped: the transaction is
                // lost (the client's view of it is unknown) and any chunk octets will be read as commands.
                abortTransaction();
            }
            error(Replies.forStatus(status, verb));
            return false;
        }
        switch (verb) {
            case HELO -> hello(false);
            case EHLO -> hello(true);
            case MAIL -> mail();
            case RCPT -> rcpt();
            case DATA -> {
                return data();
            }
            case BDAT -> bdat();
            case RSET -> {
                abortTransaction();
                writer.write(Replies.RESET_OK);
            }
            case NOOP -> writer.write(Replies.OK);
            case QUIT -> {
                abortTransaction();
                writer.write(Replies.BYE);
                closing = true;
            }
            // RFC 5321 3.5.3, 7.3: never confirm or reveal mailboxes or lists.
            case VRFY -> writer.write(Replies.VRFY_CANNOT);
            case EXPN -> writer.write(Replies.NOT_IMPLEMENTED);
            case HELP -> writer.write(Replies.HELP);
            case STARTTLS -> {
                // Anything pipelined after it is dropped: plaintext must not count as sent over TLS (RFC 3207 4.2;
                // CVE-2011-0411, plaintext command injection). The same when TLS is not on offer.
                in.position(in.limit());
                framer.reset();
                startTls();
            }
            case TURN, SEND, SOML, SAML -> error(Replies.NOT_IMPLEMENTED);
            default -> error(Replies.UNKNOWN_COMMAND);
        }
        return false;
    }

    /** STARTTLS (RFC 3207 4): when it may start, the session answers it ({@link #START_TLS}). */
    private void startTls() {
        if (!tlsOffered) {
            writer.write(Replies.NOT_IMPLEMENTED);
        } else if (tlsActive) {
            writer.write(Replies.TLS_ACTIVE);
        } else if (state == State.CONNECTED) {
            error(Replies.NEED_HELO);
        } else {
            abortTransaction();
            tlsPending = true;
        }
    }

    /** Writes the 220 to STARTTLS: the handshake follows. */
    public void tlsReady(ByteBuffer out) {
        writer.target(out).write(Replies.READY_TLS);
    }

    /** Writes 454 to STARTTLS: no room for another TLS session now (RFC 3207 4); the session goes on in plaintext. */
    public void tlsUnavailable(ByteBuffer out) {
        writer.target(out).write(Replies.TLS_UNAVAILABLE);
    }

    /**
     * The handshake is done: RFC 3207 4.2, forget everything the client said before it (the EHLO argument, any
     * transaction); the client must say EHLO again.
     */
    public void tlsStarted() {
        abortTransaction();
        tlsActive = true;
        state = State.CONNECTED;
        ehlo = false;
        helo = new byte[0];
        framer.reset();
    }

    /** HELO/EHLO (RFC 5321 4.1.1.1): (re)starts the session state; EHLO also acts as RSET (4.1.4). */
    private void hello(boolean extended) {
        abortTransaction();
        ByteBuffer src = cmd.buffer();
        int from = cmd.domainStart();
        int to = cmd.domainEnd();
        if (helo.length != to - from) {
            helo = new byte[to - from];
        }
        src.get(from, helo, 0, helo.length);
        ehlo = extended;
        writer.enhancedCodes(extended);
        state = State.READY;
        if (extended) {
            writer.writeEhlo(hostname, src, from, to, settings.maxMessageSize(), tlsOffered && !tlsActive);
        } else {
            writer.writeHelo(hostname);
        }
    }

    /** MAIL FROM (RFC 5321 4.1.1.2, RFC 1870, RFC 3461, RFC 6531). Assigns the queue id. */
    private void mail() {
        if (state == State.CONNECTED) {
            error(Replies.NEED_HELO);
            return;
        }
        if (state != State.READY) {
            error(Replies.NESTED_MAIL);
            return;
        }
        if (tlsOffered && settings.tlsRequired() && !tlsActive) {
            error(Replies.TLS_REQUIRED); // RFC 3207 4: nothing is relayed over a session in plaintext
            return;
        }
        if (cmd.size() > settings.maxMessageSize()) {
            // RFC 1870 6.1: the declared size exceeds the fixed limit.
            counters.rejected(RejectReason.MESSAGE_TOO_BIG);
            writer.write(Replies.SIZE_EXCEEDED);
            return;
        }
        ByteBuffer src = cmd.buffer();
        long now = System.currentTimeMillis();
        envelope.begin(QueueId.next(), now, client.addressText(), helo);
        envelope.sender(src, cmd.pathStart(), cmd.pathEnd());
        envelope.mailParameters(cmd.size(), cmd.body(), cmd.smtputf8(), cmd.ret(), src, cmd.envidStart(),
                cmd.envidEnd());
        smtputf8 = cmd.smtputf8();
        senderLen = copy(src, cmd.pathStart(), cmd.pathEnd(), sender);
        firstRcptLen = 0;
        state = State.MAIL;
        writer.write(Replies.SENDER_OK);
    }

    /**
     * RCPT TO (RFC 5321 4.1.1.3). Every recipient is relayed, so only mynetworks may add one (RFC 5321 7.1), except
     * the bare {@code <Postmaster>}, which every client may reach (4.5.1) once it has a mailbox to go to.
     */
    private void rcpt() {
        if (state == State.CONNECTED) {
            error(Replies.NEED_HELO);
            return;
        }
        if (state != State.MAIL || bdatStarted) {
            error(state == State.MAIL ? Replies.BAD_SEQUENCE : Replies.NEED_MAIL);
            return;
        }
        rcptTried = true;
        boolean toPostmaster = cmd.postmaster() && postmaster != null;
        if (!client.trusted() && !toPostmaster) {
            error(Replies.RELAY_DENIED, RejectReason.RELAY_DENIED);
            return;
        }
        if (cmd.pathStart() == cmd.pathEnd()) {
            error(Replies.BAD_RCPT); // RCPT TO:<> is not a forward-path
            return;
        }
        if (cmd.utf8() && !smtputf8) {
            error(Replies.UTF8_NOT_PERMITTED); // RFC 6531 3.4: only within an SMTPUTF8 transaction
            return;
        }
        if (envelope.recipientCount() >= settings.maxRecipients()) {
            // RFC 5321 4.5.3.1.10: 452 tells the client to send the rest in another transaction.
            counters.rejected(RejectReason.TOO_MANY_RECIPIENTS);
            writer.write(Replies.TOO_MANY_RCPTS);
            return;
        }
        ByteBuffer src = cmd.buffer();
        ByteBuffer path = toPostmaster ? postmaster : src;
        int pathStart = toPostmaster ? 0 : cmd.pathStart();
        int pathEnd = toPostmaster ? postmaster.limit() : cmd.pathEnd();
        if (envelope.recipientCount() == 0) {
            firstRcptLen = copy(path, pathStart, pathEnd, firstRcpt);
        }
        envelope.addRecipient(path, pathStart, pathEnd, cmd.notifyFlags(), src, cmd.orcptStart(), cmd.orcptEnd());
        writer.write(Replies.RCPT_OK);
    }

    /** DATA (RFC 5321 4.1.1.4). Returns true after 354 so that the client sees it before we wait for content. */
    private boolean data() {
        Reply refusal = transactionRefusal();
        if (refusal != null) {
            error(refusal);
            return false;
        }
        if (bdatStarted) {
            error(Replies.BAD_SEQUENCE); // RFC 3030 2: DATA may not follow BDAT in a transaction
            return false;
        }
        if (!startContent()) {
            localFailure(Replies.INSUFFICIENT_STORAGE);
            return false;
        }
        dataDecoder.reset();
        state = State.DATA;
        writer.write(Replies.START_DATA);
        return true;
    }

    /** Why DATA/BDAT cannot start now, or null. */
    private Reply transactionRefusal() {
        if (state == State.CONNECTED) {
            return Replies.NEED_HELO;
        }
        if (state != State.MAIL) {
            return Replies.NEED_MAIL;
        }
        if (envelope.recipientCount() == 0) {
            // RFC 5321 3.3: 554 when every RCPT was refused (e.g. pipelined), 503 when none was sent.
            return rcptTried ? Replies.NO_VALID_RCPTS : Replies.NEED_RCPT;
        }
        return null;
    }

    /** Starts a message body with its Received header; false when no buffer could be had. */
    private boolean startContent() {
        releaseBody();
        bodyHeld = true;
        storageFailed = false;
        contentLength = 0;
        byte[] protocol = !ehlo ? WITH_SMTP : smtputf8 ? (tlsActive ? WITH_UTF8SMTPS : WITH_UTF8SMTP)
                : tlsActive ? WITH_ESMTPS : WITH_ESMTP;
        boolean one = envelope.recipientCount() == 1;
        if (!received.write(body, helo, client.addressText(), clientIpv6, protocol, envelope.queueId(),
                one ? firstRcpt : null, firstRcptLen, System.currentTimeMillis())) {
            releaseBody();
            return false;
        }
        return true;
    }

    /** Feeds DATA content to the decoder. Returns false when {@code in} is drained before the end of data. */
    private boolean receiveData(ByteBuffer in) {
        while (true) {
            ByteBuffer dst = contentTarget();
            int r = dataDecoder.decode(in, dst);
            if (r == DataDecoder.NEED_INPUT) {
                return false;
            }
            if (r == DataDecoder.END) {
                state = State.MAIL;
                contentLength = dataDecoder.contentLength();
                ContentRefusal refusal = dataDecoder.refusal();
                if (refusal != null) {
                    refuseContent(refusal);
                } else {
                    completeContent();
                }
                return true;
            }
            // OUTPUT_FULL: contentTarget() gets a fresh chunk on the next turn.
        }
    }

    /** BDAT (RFC 3030 2). The chunk's octets are always read, even when the command is refused. */
    private void bdat() {
        long size = cmd.chunkSize();
        Reply refusal = transactionRefusal();
        if (refusal != null) {
            abortTransaction();
            discard(size, refusal);
            return;
        }
        if (!bdatStarted) {
            if (!startContent()) {
                abortTransaction();
                counters.rejected(RejectReason.LOCAL_ERROR);
                discard(size, Replies.INSUFFICIENT_STORAGE);
                return;
            }
            bdatDecoder.startMessage();
            bdatStarted = true;
        }
        bdatLast = cmd.last();
        bdatDecoder.startChunk(size);
        state = State.BDAT;
    }

    private void discard(long size, Reply reply) {
        discardRemaining = size;
        discardReply = reply;
        state = State.BDAT;
    }

    /** Reads BDAT chunk octets. Returns false when {@code in} is drained before the chunk ends. */
    private boolean receiveChunk(ByteBuffer in) {
        if (discardReply != null) {
            int n = (int) Math.min(discardRemaining, in.remaining());
            in.position(in.position() + n);
            discardRemaining -= n;
            if (discardRemaining > 0) {
                return false;
            }
            Reply r = discardReply;
            discardReply = null;
            state = envelope.started() ? State.MAIL : ehloOrHeloState();
            if (r.transientFailure()) {
                writer.write(r);
            } else {
                error(r);
            }
            return true;
        }
        while (true) {
            ByteBuffer dst = contentTarget();
            int r = bdatDecoder.decode(in, dst);
            if (r == BdatDecoder.NEED_INPUT) {
                return false;
            }
            if (r == BdatDecoder.CHUNK_END) {
                state = State.MAIL;
                contentLength = bdatDecoder.contentLength();
                ContentRefusal refusal = bdatDecoder.refusal();
                if (refusal != null) {
                    refuseContent(refusal);
                } else if (storageFailed) {
                    refuseContent(RejectReason.LOCAL_ERROR, Replies.INSUFFICIENT_STORAGE);
                } else if (!bdatLast) {
                    writer.write(Replies.CHUNK_OK);
                } else {
                    while (!bdatDecoder.finishMessage(contentTarget())) {
                        // a fresh chunk is taken on each turn; finishing needs at most two octets
                    }
                    completeContent();
                }
                return true;
            }
        }
    }

    private State ehloOrHeloState() {
        return helo.length == 0 ? State.CONNECTED : State.READY;
    }

    /**
     * Where decoded content goes: the body's current chunk, or, once the pool is exhausted, a small sink that is
     * overwritten (the message is then refused with a 4xx after its end is read, RFC 5321 4.2.5).
     */
    private ByteBuffer contentTarget() {
        if (!storageFailed) {
            ByteBuffer dst = body.writable();
            if (dst != null) {
                return dst;
            }
            storageFailed = true;
            releaseBody();
            LOG.warn("body buffers exhausted; refusing message from {} with 452", client);
        }
        if (sink == null) {
            sink = ByteBuffer.allocate(512);
        }
        return sink.clear();
    }

    /** The content is complete and acceptable (unless storage failed): commit once pending replies are out. */
    private void completeContent() {
        if (storageFailed) {
            refuseContent(RejectReason.LOCAL_ERROR, Replies.INSUFFICIENT_STORAGE);
            return;
        }
        body.seal();
        commitPending = true;
    }

    /** Refuses the message just received; the transaction ends (RFC 5321 4.1.1.4). */
    private void refuseContent(ContentRefusal refusal) {
        refuseContent(switch (refusal) {
            case TOO_BIG -> RejectReason.MESSAGE_TOO_BIG;
            case BAD_LINE_ENDING -> RejectReason.BAD_LINE_ENDING_IN_DATA;
            case LINE_TOO_LONG -> RejectReason.LINE_TOO_LONG_IN_DATA;
        }, refusal.reply());
    }

    private void refuseContent(RejectReason reason, Reply reply) {
        counters.rejected(reason);
        if (LOG.isInfoEnabled()) {
            LOG.info("refused message from {} sender=<{}> size={}: {}", client,
                    Ascii.escape(sender, 0, senderLen, LOG_INPUT_MAX), contentLength, reply.code());
        }
        abortTransaction();
        writer.write(reply);
    }

    /** Commits the message to the journal (blocking until durable), then 250 with the queue id; 451 on failure. */
    private void commit() {
        commitPending = false;
        long id = envelope.queueId();
        try {
            journal.commit(envelope, body);
            counters.messageAccepted();
            writer.writeQueued(id);
            if (LOG.isInfoEnabled()) {
                LOG.info("accepted id={} from=<{}> nrcpt={} size={} client={}", QueueId.format(id),
                        Ascii.escape(sender, 0, senderLen, LOG_INPUT_MAX), envelope.recipientCount(), body.length(),
                        client);
            }
        } catch (JournalException | RuntimeException e) {
            // A local failure is always temporary for the client (RFC 5321 4.2.5): it will retry.
            counters.rejected(RejectReason.LOCAL_ERROR);
            LOG.warn("commit of {} from {} failed: {}", QueueId.format(id), client, e.toString());
            writer.write(Replies.LOCAL_ERROR);
        } finally {
            abortTransaction();
        }
    }

    private void localFailure(Reply reply) {
        counters.rejected(RejectReason.LOCAL_ERROR);
        abortTransaction();
        writer.write(reply);
    }

    /** Forgets the open transaction and returns its buffers (RSET, end of message, errors, disconnect). */
    private void abortTransaction() {
        envelope.reset();
        releaseBody();
        bdatStarted = false;
        bdatLast = false;
        commitPending = false;
        storageFailed = false;
        smtputf8 = false;
        senderLen = 0;
        firstRcptLen = 0;
        rcptTried = false;
        if (state == State.MAIL || state == State.DATA || state == State.BDAT) {
            state = State.READY;
        }
    }

    /**
     * Returns the body's chunks, only if a message was started: {@link MessageBody#release()} iterates its chunk
     * list, and RSET or a new MAIL must not allocate an iterator for an empty body.
     */
    private void releaseBody() {
        if (bodyHeld) {
            body.release();
            bodyHeld = false;
        }
    }

    /**
     * A protocol error reply. Errors are counted; at {@code maxErrors} the session says 421 4.7.0 and closes
     * (as Postfix's smtpd_hard_error_limit), so a confused or hostile client cannot keep a session busy forever.
     */
    private void error(Reply reply) {
        error(reply, RejectReason.BAD_COMMAND);
    }

    private void error(Reply reply, RejectReason reason) {
        writer.write(reply);
        counters.rejected(reason);
        if (++errors >= settings.maxErrors()) {
            counters.rejected(RejectReason.TOO_MANY_ERRORS);
            writer.write(Replies.TOO_MANY_ERRORS);
            closing = true;
        }
    }

    private void logBadInput(ByteBuffer in, int status) {
        if (LOG.isDebugEnabled()) {
            if (status >= LineFramer.LINE) {
                LOG.debug("{} bad input: {}", client, ParseStatus.name(status)); // the line is already discarded
            } else {
                LOG.debug("{} bad command ({}): {}", client, ParseStatus.name(status),
                        Ascii.escape(in, cmd.lineStart(), cmd.lineEnd(), LOG_INPUT_MAX));
            }
        }
    }

    private static int copy(ByteBuffer src, int from, int to, byte[] dst) {
        int n = Math.min(to - from, dst.length);
        src.get(from, dst, 0, n);
        return n;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

package dev.tern.sink;

import dev.tern.buffer.Ascii;
import dev.tern.message.QueueId;
import dev.tern.sink.ReceivedMessage.StampCheck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * The server side of one SMTP connection to the sink: a small RFC 5321 state machine with PIPELINING (replies are
 * flushed only when no complete command is left in the input, RFC 2920 section 3.2), CHUNKING (RFC 3030) and the
 * configured faults.
 *
 * <p>Runs on its own virtual thread; all state is confined to it. Buffers are plain arrays reused for the life of
 * the connection; nothing is allocated per command unless messages are being kept.
 */
final class SinkConnection {
    // Small enough for tens of thousands of connections; DATA and BDAT stream through it in any size.
    private static final int INPUT_SIZE = 16 * 1024;
    private static final int MAX_COMMAND = 4096;
    // Replies queued at once before a flush is forced; a pipelined batch is far smaller.
    private static final int MAX_QUEUED_REPLIES = 128;

    private static final int HELO = verb("HELO");
    private static final int EHLO = verb("EHLO");
    private static final int MAIL = verb("MAIL");
    private static final int RCPT = verb("RCPT");
    private static final int DATA = verb("DATA");
    private static final int BDAT = verb("BDAT");
    private static final int RSET = verb("RSET");
    private static final int NOOP = verb("NOOP");
    private static final int QUIT = verb("QUIT");
    private static final int VRFY = verb("VRFY");

    private static final byte[] OK = ascii("250 2.0.0 Ok\r\n");
    private static final byte[] MAIL_OK = ascii("250 2.1.0 Ok\r\n");
    private static final byte[] RCPT_OK = ascii("250 2.1.5 Ok\r\n");
    private static final byte[] RCPT_TEMPFAIL = ascii("451 4.2.0 Mailbox temporarily unavailable (injected)\r\n");
    private static final byte[] RCPT_REJECT = ascii("550 5.1.1 Mailbox unavailable (injected)\r\n");
    private static final byte[] DATA_GO = ascii("354 End data with <CR><LF>.<CR><LF>\r\n");
    private static final byte[] DATA_TEMPFAIL = ascii("451 4.3.0 Temporary failure (injected)\r\n");
    private static final byte[] DATA_REJECT = ascii("550 5.7.1 Message rejected (injected)\r\n");
    private static final byte[] TOO_BIG = ascii("552 5.3.4 Message size exceeds fixed limit\r\n");
    private static final byte[] NO_HELO = ascii("503 5.5.1 Send EHLO/HELO first\r\n");
    private static final byte[] NO_MAIL = ascii("503 5.5.1 Need MAIL first\r\n");
    private static final byte[] NESTED_MAIL = ascii("503 5.5.1 Transaction already started\r\n");
    private static final byte[] NO_RCPT = ascii("554 5.5.1 No valid recipients\r\n");
    private static final byte[] BDAT_OUT_OF_SEQUENCE = ascii("503 5.5.1 Bad sequence of commands\r\n");
    private static final byte[] DATA_AFTER_BDAT = ascii("503 5.5.1 DATA not allowed after BDAT\r\n");
    private static final byte[] SYNTAX = ascii("501 5.5.4 Syntax error in parameters or arguments\r\n");
    private static final byte[] UNKNOWN = ascii("500 5.5.2 Command not recognized\r\n");
    private static final byte[] NOT_IMPLEMENTED = ascii("502 5.5.1 Command not implemented\r\n");
    private static final byte[] LINE_TOO_LONG = ascii("500 5.5.2 Line too long\r\n");
    private static final byte[] CANNOT_VRFY = ascii("252 2.5.0 Cannot VRFY user\r\n");
    private static final byte[] BYE = ascii("221 2.0.0 Bye\r\n");
    private static final byte[] QUEUED_PREFIX = ascii("250 2.0.0 Ok: queued as ");
    private static final byte[] CRLF = ascii("\r\n");
    private static final byte[] OCTETS_PREFIX = ascii("250 2.0.0 ");
    private static final byte[] OCTETS_SUFFIX = ascii(" octets received\r\n");

    private final SmtpSink sink;
    private final SinkSettings settings;
    private final SocketChannel channel;
    private final InetSocketAddress client;
    private final SplittableRandom dice;
    private final boolean keep;
    private final byte[] in = new byte[INPUT_SIZE];
    private final ByteBuffer inBuffer = ByteBuffer.wrap(in);
    private int readPos;
    private int writePos;
    private final byte[] out = new byte[4 * 1024];
    private int outLength;
    // The codes of the queued replies and the recipients they accept, counted at the flush: none lost to a cut.
    private final int[] queuedCodes = new int[MAX_QUEUED_REPLIES];
    private int queuedReplies;
    private int queuedRecipients;
    private final byte[] queuedReply = new byte[QUEUED_PREFIX.length + 16 + 2];
    private final byte[] octetsReply = new byte[OCTETS_PREFIX.length + 20 + OCTETS_SUFFIX.length];
    private final DataUnstuffer unstuffer = new DataUnstuffer();
    private final MessageInspector inspector = new MessageInspector();

    private boolean greeted;
    private String helo = "";
    private boolean inTransaction;
    private String mailFrom;
    private String mailParams;
    private final List<String> recipients = new ArrayList<>();
    private int acceptedRecipients;
    private boolean chunking;
    private int dataFate;

    private static final int FATE_ACCEPT = 0;
    private static final int FATE_TEMPFAIL = 1;
    private static final int FATE_REJECT = 2;
    private static final int FATE_DISCONNECT = 3;

    SinkConnection(SmtpSink sink, SocketChannel channel, InetSocketAddress client, long ordinal) {
        this.sink = sink;
        this.settings = sink.settings();
        this.channel = channel;
        this.client = client;
        this.dice = new SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L + ordinal);
        this.keep = settings.keepMessages() || settings.listener() != null;
        System.arraycopy(QUEUED_PREFIX, 0, queuedReply, 0, QUEUED_PREFIX.length);
        System.arraycopy(OCTETS_PREFIX, 0, octetsReply, 0, OCTETS_PREFIX.length);
        System.arraycopy(CRLF, 0, queuedReply, queuedReply.length - 2, 2);
    }

    /** Serves the connection until QUIT, EOF, an injected disconnect or an I/O error (thrown). */
    void serve() throws IOException {
        reply(sink.greetingReply());
        while (true) {
            int lf = indexOf(in, readPos, writePos, (byte) '\n');
            if (lf < 0) {
                if (writePos - readPos >= MAX_COMMAND) {
                    if (!discardLongLine()) {
                        return;
                    }
                    reply(LINE_TOO_LONG);
                    continue;
                }
                flush(); // nothing complete left: answer the pipelined batch in one write
                if (fill() < 0) {
                    return;
                }
                continue;
            }
            int start = readPos;
            int end = lf > start && in[lf - 1] == '\r' ? lf - 1 : lf;
            readPos = lf + 1;
            if (!command(start, end)) {
                flush();
                return;
            }
        }
    }

    private boolean command(int start, int end) throws IOException {
        int length = end - start;
        int verb = length >= 4 && (length == 4 || in[start + 4] == ' ') ? packLower(in, start) : 0;
        if (verb == EHLO || verb == HELO) {
            if (keep) {
                helo = length > 5 ? text(start + 5, end).trim() : "";
            }
            greeted = true;
            resetTransaction();
            reply(verb == EHLO ? sink.ehloReply() : sink.heloReply());
        } else if (verb == MAIL) {
            mail(start + 4, end);
        } else if (verb == RCPT) {
            rcpt(start + 4, end);
        } else if (verb == DATA) {
            return data();
        } else if (verb == BDAT) {
            return bdat(start + 4, end);
        } else if (verb == RSET) {
            resetTransaction();
            reply(OK);
        } else if (verb == NOOP) {
            reply(OK);
        } else if (verb == QUIT) {
            reply(BYE);
            return false;
        } else if (verb == VRFY) {
            reply(CANNOT_VRFY);
        } else if (expect(start, end, "STARTTLS") == end || expect(start, end, "AUTH ") > 0) {
            reply(NOT_IMPLEMENTED);
        } else {
            reply(UNKNOWN);
        }
        return true;
    }

    private void mail(int from, int end) throws IOException {
        if (!greeted) {
            reply(NO_HELO);
            return;
        }
        if (inTransaction) {
            reply(NESTED_MAIL);
            return;
        }
        int path = skipSpaces(expect(from, end, " FROM:"), end);
        int close = path < 0 ? -1 : indexOf(in, path, end, (byte) '>');
        if (path < 0 || path >= end || in[path] != '<' || close < 0) {
            reply(SYNTAX);
            return;
        }
        long declaredSize = sizeParameter(close + 1, end);
        if (declaredSize < 0) {
            reply(SYNTAX);
            return;
        }
        if (settings.sizeLimit() > 0 && declaredSize > settings.sizeLimit()) {
            reply(TOO_BIG);
            return;
        }
        inTransaction = true;
        if (keep) {
            mailFrom = text(path + 1, close);
            mailParams = text(close + 1, end).trim();
        }
        reply(MAIL_OK);
    }

    private void rcpt(int from, int end) throws IOException {
        if (!inTransaction) {
            reply(NO_MAIL);
            return;
        }
        int path = skipSpaces(expect(from, end, " TO:"), end);
        int close = path < 0 ? -1 : indexOf(in, path, end, (byte) '>');
        if (path < 0 || path >= end || in[path] != '<' || close < 0) {
            reply(SYNTAX);
            return;
        }
        double roll = dice.nextDouble();
        boolean tempfail = roll < settings.tempfailRcptRatio();
        boolean reject = !tempfail && roll < settings.tempfailRcptRatio() + settings.rejectRcptRatio();
        if (settings.addressFaults()) {
            tempfail |= expect(path + 1, close, "tempfail") > 0;
            reject |= !tempfail && expect(path + 1, close, "reject") > 0;
        }
        if (tempfail) {
            reply(RCPT_TEMPFAIL);
        } else if (reject) {
            reply(RCPT_REJECT);
        } else {
            acceptedRecipients++;
            queuedRecipients++; // counted when its 250 is flushed
            if (keep) {
                recipients.add(text(path + 1, close));
            }
            reply(RCPT_OK);
        }
    }

    private boolean data() throws IOException {
        if (!inTransaction) {
            reply(NO_MAIL);
            return true;
        }
        if (chunking) {
            reply(DATA_AFTER_BDAT);
            return true;
        }
        if (acceptedRecipients == 0) {
            reply(NO_RCPT);
            return true;
        }
        reply(DATA_GO);
        flush();
        startMessage();
        unstuffer.reset();
        while (!unstuffer.done()) {
            if (readPos == writePos && fill() < 0) {
                return false;
            }
            readPos += unstuffer.feed(in, readPos, writePos, inspector);
            if (dataFate == FATE_DISCONNECT) {
                return injectDisconnect();
            }
        }
        endMessage(false);
        return true;
    }

    private boolean bdat(int from, int end) throws IOException {
        int i = from;
        while (i < end && in[i] == ' ') {
            i++;
        }
        long size = 0;
        int digits = 0;
        while (i < end && in[i] >= '0' && in[i] <= '9' && digits < 18) {
            size = size * 10 + (in[i++] - '0');
            digits++;
        }
        boolean last = false;
        if (i < end) {
            int rest = expect(i, end, " LAST");
            last = rest == end;
            if (!last) {
                digits = 0;
            }
        }
        if (!settings.chunking()) {
            reply(NOT_IMPLEMENTED);
            return true;
        }
        if (digits == 0) {
            // Without a size the chunk cannot be skipped: the stream is out of step, so end it (RFC 3030 section 2).
            reply(SYNTAX);
            return false;
        }
        boolean accepted = inTransaction && acceptedRecipients > 0;
        if (accepted && !chunking) {
            chunking = true;
            startMessage();
        }
        long left = size;
        while (left > 0) {
            if (readPos == writePos && fill() < 0) {
                return false;
            }
            int n = (int) Math.min(left, writePos - readPos);
            if (accepted) {
                inspector.content(in, readPos, n);
            }
            readPos += n;
            left -= n;
            if (accepted && dataFate == FATE_DISCONNECT) {
                return injectDisconnect();
            }
        }
        if (accepted && last && dataFate == FATE_DISCONNECT) {
            // A message without content bytes (BDAT 0 LAST) never entered the loop above: cut it at its end.
            return injectDisconnect();
        }
        if (!accepted) {
            reply(inTransaction ? NO_RCPT : BDAT_OUT_OF_SEQUENCE);
        } else if (last) {
            endMessage(true);
        } else {
            replyOctets(size);
        }
        return true;
    }

    private void startMessage() {
        double roll = dice.nextDouble();
        double disconnect = settings.disconnectDataRatio();
        double tempfail = disconnect + settings.tempfailDataRatio();
        double reject = tempfail + settings.rejectDataRatio();
        dataFate = roll < disconnect ? FATE_DISCONNECT
                : roll < tempfail ? FATE_TEMPFAIL
                : roll < reject ? FATE_REJECT
                : FATE_ACCEPT;
        inspector.begin(keep, settings.sizeLimit());
    }

    private void endMessage(boolean chunked) throws IOException {
        SmtpSink.Counters counters = sink.counters();
        if (inspector.oversized()) {
            counters.failedMessages.increment();
            reply(TOO_BIG);
        } else if (dataFate == FATE_TEMPFAIL) {
            counters.failedMessages.increment();
            reply(DATA_TEMPFAIL);
        } else if (dataFate == FATE_REJECT) {
            counters.failedMessages.increment();
            reply(DATA_REJECT);
        } else {
            StampCheck check = inspector.check();
            if (check == StampCheck.VALID || check == StampCheck.MISMATCH) {
                counters.stamped.increment();
                long latency = Math.max(0, TernStamp.nowMicros() - inspector.stampMicros());
                counters.recordLatency(latency);
            }
            if (check == StampCheck.MISMATCH || check == StampCheck.MALFORMED) {
                counters.integrityFailures.increment();
            }
            if (sink.recordsMessageIds()) {
                sink.delivered(inspector.messageId());
            }
            long id = QueueId.next();
            QueueId.formatInto(id, queuedReply, QUEUED_PREFIX.length);
            counters.bytes.add(inspector.size());
            if (keep) {
                sink.accepted(new ReceivedMessage(client, helo, mailFrom, mailParams, List.copyOf(recipients),
                        inspector.content(), chunked, check, QueueId.format(id)));
            }
            reply(queuedReply);
            counters.messageAccepted();
        }
        resetTransaction();
        sink.signal();
    }

    private boolean injectDisconnect() throws IOException {
        // Replies still queued (pipelined MAIL, RCPT, ... before BDAT) die with the connection: never sent, never
        // counted.
        outLength = 0;
        queuedReplies = 0;
        queuedRecipients = 0;
        sink.counters().injectedDisconnects.increment();
        sink.counters().failedMessages.increment();
        sink.signal();
        channel.close();
        return false;
    }

    private void resetTransaction() {
        inTransaction = false;
        chunking = false;
        acceptedRecipients = 0;
        mailFrom = null;
        mailParams = null;
        recipients.clear();
    }

    /** Returns the index after {@code text} if the bytes at {@code from} match it ignoring case, else -1. */
    private int expect(int from, int end, String text) {
        if (end - from < text.length()) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            if (lower(in[from + i]) != lower((byte) text.charAt(i))) {
                return -1;
            }
        }
        return from + text.length();
    }

    /** Tolerates spaces after "FROM:" / "TO:" (RFC 5321 forbids them, but some clients send them). */
    private int skipSpaces(int at, int end) {
        if (at < 0) {
            return at;
        }
        while (at < end && in[at] == ' ') {
            at++;
        }
        return at;
    }

    /** The value of a SIZE= parameter in {@code [from, end)}, 0 when absent, -1 when malformed. */
    private long sizeParameter(int from, int end) {
        for (int i = from; i < end; i++) {
            if (in[i] == ' ' && expect(i + 1, end, "SIZE=") > 0) {
                long size = 0;
                int j = i + 6;
                int digits = 0;
                while (j < end && in[j] >= '0' && in[j] <= '9' && digits < 18) {
                    size = size * 10 + (in[j++] - '0');
                    digits++;
                }
                return digits == 0 || (j < end && in[j] != ' ') ? -1 : size;
            }
        }
        return 0;
    }

    /** Discards input up to and including the next LF; false on EOF. */
    private boolean discardLongLine() throws IOException {
        while (true) {
            int lf = indexOf(in, readPos, writePos, (byte) '\n');
            if (lf >= 0) {
                readPos = lf + 1;
                return true;
            }
            readPos = writePos;
            if (fill() < 0) {
                return false;
            }
        }
    }

    /** Reads more input after the unread bytes, compacting first; returns bytes read or -1 at EOF. */
    private int fill() throws IOException {
        if (readPos == writePos) {
            readPos = 0;
            writePos = 0;
        } else if (writePos == in.length) {
            System.arraycopy(in, readPos, in, 0, writePos - readPos);
            writePos -= readPos;
            readPos = 0;
        }
        inBuffer.limit(in.length).position(writePos);
        int n = channel.read(inBuffer);
        if (n > 0) {
            writePos += n;
        }
        return n;
    }

    private void reply(byte[] reply) throws IOException {
        reply(reply, reply.length);
    }

    /**
     * Queues {@code reply[0, length)}; it is written, and counted, at the next flush (or now, if a slow reply is
     * due).
     */
    private void reply(byte[] reply, int length) throws IOException {
        if (settings.slowReplyRatio() > 0 && dice.nextDouble() < settings.slowReplyRatio()) {
            flush();
            pause(settings.slowReplyDelay().toNanos());
        }
        if (outLength + length > out.length || queuedReplies == MAX_QUEUED_REPLIES) {
            flush();
        }
        System.arraycopy(reply, 0, out, outLength, length);
        outLength += length;
        queuedCodes[queuedReplies++] = code(reply);
    }

    /** {@code 250 2.0.0 <size> octets received}: the answer to a BDAT chunk that is not the last (RFC 3030). */
    private void replyOctets(long size) throws IOException {
        int digits = Ascii.decimalDigits(size);
        int end = OCTETS_PREFIX.length + digits;
        Ascii.putDigits(octetsReply, OCTETS_PREFIX.length, digits, size);
        System.arraycopy(OCTETS_SUFFIX, 0, octetsReply, end, OCTETS_SUFFIX.length);
        reply(octetsReply, end + OCTETS_SUFFIX.length);
    }

    /** Sleeps in short slices so that closing the sink (which closes the channel) ends the wait promptly. */
    private void pause(long nanos) {
        long deadline = System.nanoTime() + nanos;
        long left;
        while ((left = deadline - System.nanoTime()) > 0 && channel.isOpen()) {
            LockSupport.parkNanos(Math.min(left, 10_000_000L));
        }
    }

    /**
     * Counts the queued replies (and the recipients they accept) and writes them. Counted here, not when queued, so
     * that replies lost to an injected cut are not; counted before the write, so that a client holding a reply
     * finds it in the stats.
     */
    private void flush() throws IOException {
        SmtpSink.Counters counters = sink.counters();
        for (int i = 0; i < queuedReplies; i++) {
            counters.reply(queuedCodes[i]);
        }
        queuedReplies = 0;
        if (queuedRecipients > 0) {
            counters.recipients.add(queuedRecipients);
            queuedRecipients = 0;
        }
        if (outLength > 0) {
            write(ByteBuffer.wrap(out, 0, outLength));
            outLength = 0;
        }
    }

    private void write(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private String text(int from, int to) {
        return new String(in, from, Math.max(0, to - from), StandardCharsets.UTF_8);
    }

    private static int code(byte[] reply) {
        return (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');
    }

    private static int indexOf(byte[] bytes, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    private static int packLower(byte[] bytes, int at) {
        return lower(bytes[at]) << 24 | lower(bytes[at + 1]) << 16 | lower(bytes[at + 2]) << 8 | lower(bytes[at + 3]);
    }

    private static int verb(String v) {
        return packLower(v.getBytes(StandardCharsets.US_ASCII), 0);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

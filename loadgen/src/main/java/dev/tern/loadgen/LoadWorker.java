package dev.tern.loadgen;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * One connection's worth of load: takes message tickets from the {@link LoadGenerator}, waits for each ticket's
 * due time in open loop, and runs the SMTP transaction, timing every {@link Phase}. Reconnects after
 * {@link LoadSpec#messagesPerConnection()} messages or after an error (an errored ticket counts as failed and is
 * not retried, so the run stays bounded).
 *
 * <p>Runs on its own thread (platform or virtual, see {@link LoadGenerator#PLATFORM_THREAD_LIMIT}); all state is
 * confined to it except {@link #abort()}.
 */
final class LoadWorker implements Runnable {
    private static final long ERROR_BACKOFF_NANOS = 20_000_000L;
    private static final String STAMP_PREFIX = "X-Tern-Stamp: t=";
    private static final String DIGEST_PREFIX = "; sha256=";
    private static final String MESSAGE_ID = "Message-ID: <";
    private static final String TO = "To: <u";
    private static final String SUBJECT = "Subject: Tern load ";

    private final LoadGenerator run;
    private final LoadSpec spec;
    private final LoadStats stats;
    private final SplittableRandom random;
    private byte[] header = new byte[1024];
    private int headerLength;
    private volatile SmtpClient client;
    private int sentOnConnection;
    private BodyCache.Body lastBody;
    private final byte[] messageIdTail;
    private final byte[] fromLine;
    private final byte[] toTail;
    private final byte[] fixedTail;

    /** How a transaction ended. */
    private enum Outcome { ACKNOWLEDGED, TEMPFAILED, REJECTED }

    LoadWorker(LoadGenerator run, int index) {
        this.run = run;
        this.spec = run.spec();
        this.stats = run.stats();
        this.random = new SplittableRandom(spec.seed() * 0x9E3779B97F4A7C15L + index);
        this.messageIdTail = ascii(run.runId() + "@" + spec.helo() + ">\r\n");
        this.fromLine = ascii("From: <" + spec.mailFrom() + ">\r\n");
        this.toTail = ascii("-0@" + spec.recipientDomain() + ">\r\n");
        this.fixedTail = ascii("Date: " + run.dateHeader() + "\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    }

    @Override
    public void run() {
        try {
            long ticket;
            while ((ticket = run.nextTicket()) >= 0) {
                long due = run.dueTime(ticket);
                if (due < 0) {
                    break;
                }
                waitUntil(due);
                if (run.aborted()) {
                    break;
                }
                int size = spec.size().next(random);
                // The body is looked up (built, the first time) before the clock starts: making content is this
                // generator's work, not the server's latency, and a cold 10 MiB build took ~100 ms per worker.
                body(bodyLength(ticket, size, run.stampMicros()));
                long start = spec.openLoop() ? due : System.nanoTime();
                boolean measured = run.measured(ticket, start);
                stats.started.increment();
                try {
                    Outcome outcome = send(ticket, size, measured);
                    long end = System.nanoTime();
                    count(outcome);
                    if (measured) {
                        stats.record(Phase.MESSAGE, end - start);
                        stats.measuredWindow(start, end);
                    }
                } catch (IOException e) {
                    stats.failedByError.increment();
                    stats.error(run.aborted() ? "aborted-at-deadline" : kind(e));
                    dropConnection();
                    if (!run.aborted()) {
                        LockSupport.parkNanos(ERROR_BACKOFF_NANOS);
                    }
                }
            }
        } finally {
            SmtpClient c = client;
            if (c != null) {
                if (!run.aborted()) {
                    c.quit();
                }
                retire(c);
            }
        }
    }

    /** Closes the connection from another thread (the run's hard deadline). */
    void abort() {
        SmtpClient c = client;
        if (c != null) {
            c.close();
        }
    }

    private void waitUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0 && !run.aborted()) {
            LockSupport.parkNanos(wait);
        }
    }

    private Outcome send(long ticket, int size, boolean measured) throws IOException {
        SmtpClient c = client;
        if (c != null && spec.messagesPerConnection() > 0 && sentOnConnection >= spec.messagesPerConnection()) {
            c.quit();
            retire(c);
            client = null;
            c = null;
        }
        if (c == null) {
            c = open(measured);
        }
        sentOnConnection++;
        BodyCache.Body body = buildHeader(ticket, size);
        boolean bdat = spec.bdat() && c.chunking();
        int contentLength = headerLength + body.raw().length;
        Outcome outcome = c.pipelining() && spec.pipelining()
                ? pipelined(c, ticket, body, bdat, contentLength, measured)
                : lockStep(c, ticket, body, bdat, contentLength, measured);
        if (outcome == Outcome.ACKNOWLEDGED) {
            if (measured) {
                stats.measuredAcknowledged.increment();
                stats.measuredBytes.add(contentLength);
            }
            run.acknowledged(c, ticket);
        }
        return outcome;
    }

    private SmtpClient open(boolean measured) throws IOException {
        long t0 = System.nanoTime();
        SmtpClient c = SmtpClient.connectWatched(spec.target(), spec.connectTimeout(), spec.replyTimeout(),
                run.deadlines(), SmtpClient.WORKER_READ, SmtpClient.WORKER_WRITE);
        client = c;
        sentOnConnection = 0;
        stats.connections.increment();
        if (run.aborted()) {
            throw new IOException("aborted");
        }
        int greeting = reply(c);
        long t1 = System.nanoTime();
        if (greeting != 220) {
            throw new ProtocolException("greeting " + greeting);
        }
        int ehlo = c.ehlo(spec.helo());
        long t2 = System.nanoTime();
        stats.reply(ehlo);
        if (ehlo != 250) {
            throw new ProtocolException("EHLO answered " + ehlo);
        }
        if (measured) {
            stats.record(Phase.CONNECT, t1 - t0);
            stats.record(Phase.EHLO, t2 - t1);
        }
        if (spec.startTls() == StartTls.REQUIRED || (spec.startTls() == StartTls.OFFERED && c.startTlsOffered())) {
            startTls(c);
            lap(Phase.STARTTLS, t2, measured);
        }
        return c;
    }

    /** RFC 3207: STARTTLS, the handshake, and EHLO again inside TLS. */
    private void startTls(SmtpClient c) throws IOException {
        if (!c.startTlsOffered()) {
            throw new StartTlsException("starttls-not-offered", "the server's EHLO reply does not offer STARTTLS");
        }
        int code = reply(c.startTls(run.tls(), spec.target()));
        if (code != 220) {
            throw new StartTlsException("starttls-refused", "STARTTLS answered " + code);
        }
        stats.tlsSession(c.tlsDescription());
        int ehlo = reply(c.ehlo(spec.helo()));
        if (ehlo != 250) {
            throw new ProtocolException("EHLO in TLS answered " + ehlo);
        }
    }

    /** RFC 2920: MAIL, every RCPT and DATA (or BDAT with the content) in one write, then the replies in order. */
    private Outcome pipelined(SmtpClient c, long ticket, BodyCache.Body body, boolean bdat, int contentLength,
                              boolean measured) throws IOException {
        mailCommand(c, contentLength);
        for (int i = 0; i < spec.recipients(); i++) {
            rcptCommand(c, ticket, i);
        }
        if (bdat) {
            bdatCommand(c, body, contentLength);
        } else {
            c.append("DATA\r\n");
        }
        c.flush();
        long t = System.nanoTime();
        int mail = reply(c);
        t = lap(Phase.MAIL, t, measured);
        int accepted = 0;
        int lastRcpt = 0;
        for (int i = 0; i < spec.recipients(); i++) {
            lastRcpt = reply(c);
            t = lap(Phase.RCPT, t, measured);
            accepted += lastRcpt == 250 || lastRcpt == 251 ? 1 : 0;
        }
        int last = reply(c);
        lap(bdat ? Phase.BDAT_LAST : Phase.DATA, t, measured);
        if (bdat) {
            return finish(c, mail, accepted, lastRcpt, last);
        }
        if (last != 354) {
            return finish(c, mail, accepted, lastRcpt, last);
        }
        return finish(c, mail, accepted, lastRcpt, content(c, body, measured));
    }

    /** One command, one reply: for servers without PIPELINING. */
    private Outcome lockStep(SmtpClient c, long ticket, BodyCache.Body body, boolean bdat, int contentLength,
                             boolean measured) throws IOException {
        mailCommand(c, contentLength);
        c.flush();
        long t = System.nanoTime();
        int mail = reply(c);
        lap(Phase.MAIL, t, measured);
        if (mail != 250) {
            return finish(c, mail, 0, 0, mail);
        }
        int accepted = 0;
        int lastRcpt = 0;
        for (int i = 0; i < spec.recipients(); i++) {
            rcptCommand(c, ticket, i);
            c.flush();
            t = System.nanoTime();
            lastRcpt = reply(c);
            lap(Phase.RCPT, t, measured);
            accepted += lastRcpt == 250 || lastRcpt == 251 ? 1 : 0;
        }
        if (accepted == 0) {
            return finish(c, mail, accepted, lastRcpt, lastRcpt);
        }
        if (bdat) {
            bdatCommand(c, body, contentLength);
            c.flush();
            t = System.nanoTime();
            int last = reply(c);
            lap(Phase.BDAT_LAST, t, measured);
            return finish(c, mail, accepted, lastRcpt, last);
        }
        c.append("DATA\r\n").flush();
        t = System.nanoTime();
        int data = reply(c);
        lap(Phase.DATA, t, measured);
        if (data != 354) {
            return finish(c, mail, accepted, lastRcpt, data);
        }
        return finish(c, mail, accepted, lastRcpt, content(c, body, measured));
    }

    /** Sends the dot-stuffed content and the terminator; returns the final reply. */
    private int content(SmtpClient c, BodyCache.Body body, boolean measured) throws IOException {
        // Header lines never start with a dot, so only the body needs stuffing.
        c.append(header, 0, headerLength).append(body.dataSection()).flush();
        long t = System.nanoTime();
        int code = reply(c);
        lap(Phase.END_OF_DATA, t, measured);
        return code;
    }

    /**
     * Classifies the transaction by the reply that decided it, and resets the server's transaction when it did not
     * end with a final reply to the content (RFC 5321 section 4.1.1.5).
     */
    private Outcome finish(SmtpClient c, int mail, int accepted, int lastRcpt, int last) throws IOException {
        int decisive = mail != 250 ? mail : accepted == 0 ? lastRcpt : last;
        if (decisive == 250) {
            return Outcome.ACKNOWLEDGED;
        }
        if (mail == 250) {
            c.append("RSET\r\n").flush();
            reply(c);
        }
        return decisive >= 400 && decisive < 500 ? Outcome.TEMPFAILED : Outcome.REJECTED;
    }

    private void mailCommand(SmtpClient c, int contentLength) throws IOException {
        c.append("MAIL FROM:<").append(spec.mailFrom()).append("> SIZE=").append(contentLength).append("\r\n");
    }

    private void rcptCommand(SmtpClient c, long ticket, int i) throws IOException {
        c.append("RCPT TO:<u").append(ticket % 100_000).append("-").append(i).append("@")
                .append(spec.recipientDomain()).append(">\r\n");
    }

    private void bdatCommand(SmtpClient c, BodyCache.Body body, int contentLength) throws IOException {
        c.append("BDAT ").append(contentLength).append(" LAST\r\n")
                .append(header, 0, headerLength).append(body.raw());
    }

    /**
     * Builds this message's header into {@link #header} and returns its body: the size covers both, and the stamp's
     * digest covers the body only (see {@code dev.tern.sink.TernStamp}). Writes bytes in place: no allocation
     * unless the header outgrows its buffer or the body is new.
     */
    private BodyCache.Body buildHeader(long ticket, int size) {
        long now = run.stampMicros();
        long mailbox = ticket % 100_000;
        int length = headerLength(ticket, now);
        if (header.length < length) {
            header = Arrays.copyOf(header, length * 2);
        }
        BodyCache.Body body = body(bodyLength(ticket, size, now));
        int at = Ascii.put(header, 0, STAMP_PREFIX);
        at = Ascii.putLong(header, at, now);
        at = Ascii.put(header, at, DIGEST_PREFIX);
        at = put(body.sha256Hex(), at);
        at = Ascii.put(header, at, "\r\n");
        at = Ascii.put(header, at, MESSAGE_ID);
        at = Ascii.putLong(header, at, ticket);
        header[at++] = '.';
        at = put(messageIdTail, at);
        at = put(fromLine, at);
        at = Ascii.put(header, at, TO);
        at = Ascii.putLong(header, at, mailbox);
        at = put(toTail, at);
        at = Ascii.put(header, at, SUBJECT);
        at = Ascii.putLong(header, at, ticket);
        at = Ascii.put(header, at, "\r\n");
        headerLength = put(fixedTail, at);
        return body;
    }

    /** Bytes of the header {@link #buildHeader} writes for this ticket and stamp time. */
    private int headerLength(long ticket, long now) {
        return STAMP_PREFIX.length() + Ascii.digits(now) + DIGEST_PREFIX.length() + 64 + 2
                + MESSAGE_ID.length() + Ascii.digits(ticket) + 1 + messageIdTail.length
                + fromLine.length
                + TO.length() + Ascii.digits(ticket % 100_000) + toTail.length
                + SUBJECT.length() + Ascii.digits(ticket) + 2
                + fixedTail.length;
    }

    /** The body length that makes a message of {@code size} bytes with this ticket's header. */
    private int bodyLength(long ticket, int size, long now) {
        return Math.max(0, size - headerLength(ticket, now));
    }

    private int put(byte[] bytes, int at) {
        System.arraycopy(bytes, 0, header, at, bytes.length);
        return at + bytes.length;
    }

    /** The body of this length; the last one is kept, so fixed-size runs skip the shared cache. */
    private BodyCache.Body body(int length) {
        BodyCache.Body b = lastBody;
        if (b == null || b.raw().length != length) {
            b = run.bodies().body(length);
            lastBody = b;
        }
        return b;
    }

    private int reply(SmtpClient c) throws IOException {
        return reply(c.readReply());
    }

    private int reply(int code) {
        stats.reply(code);
        return code;
    }

    private long lap(Phase phase, long since, boolean measured) {
        long now = System.nanoTime();
        if (measured) {
            stats.record(phase, now - since);
        }
        return now;
    }

    private void count(Outcome outcome) {
        switch (outcome) {
            case ACKNOWLEDGED -> stats.acknowledged.increment();
            case TEMPFAILED -> stats.tempfailed.increment();
            case REJECTED -> stats.rejected.increment();
        }
    }

    private void dropConnection() {
        SmtpClient c = client;
        client = null;
        if (c != null) {
            retire(c);
        }
    }

    private void retire(SmtpClient c) {
        run.deadlines().unregister(c);
        c.close();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String kind(IOException e) {
        if (e instanceof StartTlsException s) {
            return s.kind();
        }
        if (e instanceof SSLHandshakeException) {
            return "tls-handshake";
        }
        if (e instanceof SSLException) {
            return "tls";
        }
        if (e instanceof ConnectException) {
            return "connect-refused";
        }
        if (e instanceof SocketTimeoutException) {
            return "timeout";
        }
        if (e instanceof EOFException) {
            return "closed-by-server";
        }
        if (e instanceof ProtocolException) {
            return "protocol";
        }
        if (e instanceof SocketException && String.valueOf(e.getMessage()).contains("reset")) {
            return "connection-reset";
        }
        return "io:" + e.getClass().getSimpleName();
    }
}

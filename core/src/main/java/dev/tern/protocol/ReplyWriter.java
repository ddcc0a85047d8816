package dev.tern.protocol;

import dev.tern.buffer.Ascii;
import dev.tern.message.QueueId;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Accumulates replies into an output buffer the caller owns, so that the replies to a PIPELINING batch (RFC 2920 3)
 * leave in one write. Fixed replies are bulk copies of {@link Reply}'s pre-encoded bytes; the dynamic ones (greeting,
 * EHLO, queue id) are assembled from pre-encoded pieces without allocating.
 *
 * <p>Buffer contract: every write needs at most {@link #MAX_REPLY_LENGTH} octets. The caller flushes the buffer when
 * {@link #mustFlush()} is true (and always before waiting for more input); a write that does not fit throws
 * {@link BufferOverflowException} before writing anything, which is a caller bug, never a client's doing.
 *
 * <p>Threading: not thread-safe; one instance per session.
 */
public final class ReplyWriter {
    /** The most octets any single write method emits (EHLO with a 255-octet hostname and client domain). */
    public static final int MAX_REPLY_LENGTH = 1024;
    /** The longest client domain echoed in the EHLO reply; longer ones are truncated. */
    private static final int MAX_ECHO = 255;
    private static final int MAX_HOSTNAME = 255;

    private static final byte[] CRLF = ascii("\r\n");
    private static final byte[] GREETING_PREFIX = ascii("220 ");
    private static final byte[] GREETING_SUFFIX = ascii(" ESMTP Tern\r\n");
    private static final byte[] EHLO_FIRST = ascii("250-");
    private static final byte[] EHLO_HELLO = ascii(" Hello ");
    private static final byte[] HELO_PREFIX = ascii("250 ");
    private static final byte[] EHLO_PIPELINING_SIZE = ascii("250-PIPELINING\r\n250-SIZE ");
    private static final byte[] EHLO_REST = ascii("250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n"
            + "250-SMTPUTF8\r\n");
    private static final byte[] EHLO_STARTTLS = ascii("250-STARTTLS\r\n");
    private static final byte[] EHLO_LAST = ascii("250 DSN\r\n");
    private static final byte[] QUEUED_ENHANCED = ascii("250 2.0.0 Ok: queued as 0000000000000000\r\n");
    private static final byte[] QUEUED_PLAIN = ascii("250 Ok: queued as 0000000000000000\r\n");

    private final byte[] queuedEnhanced = QUEUED_ENHANCED.clone();
    private final byte[] queuedPlain = QUEUED_PLAIN.clone();
    private final byte[] digits = new byte[20];
    private ByteBuffer out;
    private boolean enhancedCodes;

    /** A writer with no target yet; call {@link #target(ByteBuffer)} before writing. */
    public ReplyWriter() {
    }

    /** A writer appending at {@code out}'s position. */
    public ReplyWriter(ByteBuffer out) {
        this.out = out;
    }

    /** Sets the buffer replies are appended to (at its position). */
    public ReplyWriter target(ByteBuffer out) {
        this.out = out;
        return this;
    }

    public ByteBuffer buffer() {
        return out;
    }

    /** Whether replies carry RFC 3463 enhanced codes: true after EHLO (RFC 2034 3), false after HELO. */
    public void enhancedCodes(boolean enabled) {
        this.enhancedCodes = enabled;
    }

    public boolean enhancedCodes() {
        return enhancedCodes;
    }

    /** True when less than {@link #MAX_REPLY_LENGTH} octets are left: flush before the next write. */
    public boolean mustFlush() {
        return out.remaining() < MAX_REPLY_LENGTH;
    }

    /** Octets written and not yet flushed (the buffer's position, for a buffer in write mode). */
    public int pending() {
        return out.position();
    }

    public void write(Reply reply) {
        room(reply.length(enhancedCodes));
        reply.writeTo(out, enhancedCodes);
    }

    /** {@code 250 2.0.0 Ok: queued as <16 hex digits>}: the answer to the end of DATA or to BDAT LAST. */
    public void writeQueued(long queueId) {
        byte[] template = enhancedCodes ? queuedEnhanced : queuedPlain;
        // The id occupies the 16 octets before the CRLF.
        QueueId.formatInto(queueId, template, template.length - 18);
        room(template.length);
        out.put(template);
    }

    /** {@code 220 <hostname> ESMTP Tern} (RFC 5321 4.2, 3.1). */
    public void writeGreeting(byte[] hostname) {
        checkHostname(hostname);
        room(GREETING_PREFIX.length + hostname.length + GREETING_SUFFIX.length);
        out.put(GREETING_PREFIX).put(hostname).put(GREETING_SUFFIX);
    }

    /** {@code 250 <hostname>}: the reply to HELO (no extensions, RFC 5321 4.1.1.1). */
    public void writeHelo(byte[] hostname) {
        checkHostname(hostname);
        room(HELO_PREFIX.length + hostname.length + CRLF.length);
        out.put(HELO_PREFIX).put(hostname).put(CRLF);
    }

    /** The EHLO reply without echoing the client's domain. */
    public void writeEhlo(byte[] hostname, long maxSize, boolean starttls) {
        writeEhlo(hostname, null, 0, 0, maxSize, starttls);
    }

    /**
     * The EHLO reply (RFC 5321 4.1.1.1): {@code 250-<hostname> Hello <client domain>} then the extensions
     * PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034), CHUNKING
     * (RFC 3030), SMTPUTF8 (RFC 6531), optionally STARTTLS (RFC 3207), and DSN (RFC 3461). The client's domain is
     * echoed with every octet outside printable ASCII replaced by {@code ?}, truncated to 255 octets.
     *
     * @param src       the buffer holding the client's domain (e.g. {@link Command#buffer()}), or null for none
     * @param maxSize   the SIZE to advertise; 0 advertises SIZE without a limit
     */
    public void writeEhlo(byte[] hostname, ByteBuffer src, int domainStart, int domainEnd, long maxSize,
                          boolean starttls) {
        checkHostname(hostname);
        int echo = src == null ? 0 : Math.min(MAX_ECHO, Math.max(0, domainEnd - domainStart));
        int sizeDigits = formatDigits(Math.max(0, maxSize));
        int needed = EHLO_FIRST.length + hostname.length + (echo > 0 ? EHLO_HELLO.length + echo : 0) + CRLF.length
                + EHLO_PIPELINING_SIZE.length + sizeDigits + CRLF.length + EHLO_REST.length
                + (starttls ? EHLO_STARTTLS.length : 0) + EHLO_LAST.length;
        room(needed);
        out.put(EHLO_FIRST).put(hostname);
        if (echo > 0) {
            out.put(EHLO_HELLO);
            for (int i = domainStart; i < domainStart + echo; i++) {
                byte b = src.get(i);
                out.put(b > 0x20 && b < 0x7F ? b : (byte) '?');
            }
        }
        out.put(CRLF).put(EHLO_PIPELINING_SIZE).put(digits, digits.length - sizeDigits, sizeDigits).put(CRLF)
                .put(EHLO_REST);
        if (starttls) {
            out.put(EHLO_STARTTLS);
        }
        out.put(EHLO_LAST);
    }

    /** Writes the decimal digits of a non-negative value right-aligned into {@link #digits}; returns their count. */
    private int formatDigits(long value) {
        int n = Ascii.decimalDigits(value);
        Ascii.putDigits(digits, digits.length - n, n, value);
        return n;
    }

    private void room(int needed) {
        if (out.remaining() < needed) {
            throw new BufferOverflowException();
        }
    }

    private static void checkHostname(byte[] hostname) {
        if (hostname.length == 0 || hostname.length > MAX_HOSTNAME) {
            throw new IllegalArgumentException("hostname must be 1.." + MAX_HOSTNAME + " octets");
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

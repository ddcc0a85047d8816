package dev.tern.message;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The SMTP envelope of one message as the session builds it: a reusable, growable byte array in Tern's compact
 * envelope encoding, filled command by command without creating Strings. The journal stores {@link #array()} up to
 * {@link #length()} as is; {@link EnvelopeRecord#decode} reads it back for delivery and {@code tern queue}.
 *
 * <p>Encoding (all integers big-endian): {@code u8 version=1, i64 queueId, i64 receivedAtMillis, bytes client,
 * bytes helo, bytes sender, i64 size (-1 none), u8 body, u8 smtputf8, u8 ret, bytes envid, u16 recipientCount, then
 * per recipient: bytes address, u8 notify, bytes orcpt}, where {@code bytes} is a u16 length then the octets.
 * The recipient count is patched in place as recipients are added.
 *
 * <p>Threading: owned by one session; read by the journal writer only while the session waits for its commit.
 */
public final class Envelope {
    public static final byte VERSION = 1;

    /** {@code BODY=} values (RFC 1652, RFC 3030). */
    public static final int BODY_UNSPECIFIED = 0;
    public static final int BODY_7BIT = 1;
    public static final int BODY_8BITMIME = 2;
    public static final int BODY_BINARYMIME = 3;

    /** {@code RET=} values (RFC 3461 4.3). */
    public static final int RET_UNSPECIFIED = 0;
    public static final int RET_FULL = 1;
    public static final int RET_HDRS = 2;

    /** {@code NOTIFY=} bits (RFC 3461 4.1); 0 means the parameter was not given. */
    public static final int NOTIFY_NEVER = 1;
    public static final int NOTIFY_SUCCESS = 2;
    public static final int NOTIFY_FAILURE = 4;
    public static final int NOTIFY_DELAY = 8;

    private byte[] buf = new byte[512];
    private int len;
    private int countOffset = -1;
    private int recipients;
    private long queueId;

    /** Starts a new envelope (the MAIL command), discarding any previous one. */
    public void begin(long queueId, long receivedAtMillis, byte[] client, byte[] helo) {
        len = 0;
        recipients = 0;
        countOffset = -1;
        this.queueId = queueId;
        putByte(VERSION);
        putLong(queueId);
        putLong(receivedAtMillis);
        putBytes(client, 0, client.length);
        putBytes(helo, 0, helo.length);
    }

    /** The reverse-path without angle brackets; an empty range is the null sender {@code <>}. */
    public void sender(ByteBuffer src, int from, int to) {
        putBytes(src, from, to);
    }

    /** MAIL parameters; call once, after {@link #sender}. The ENVID range holds the xtext as received. */
    public void mailParameters(long size, int body, boolean smtputf8, int ret, ByteBuffer src, int envidFrom,
                               int envidTo) {
        putLong(size);
        putByte(body);
        putByte(smtputf8 ? 1 : 0);
        putByte(ret);
        putBytes(src, envidFrom, envidTo);
        countOffset = len;
        putShort(0);
    }

    /**
     * Adds a forward-path (without angle brackets) with its DSN parameters; the ORCPT range holds
     * {@code addr-type;xtext} as received, or is empty. Returns the recipient's index.
     */
    public int addRecipient(ByteBuffer src, int from, int to, int notify, ByteBuffer orcptSrc, int orcptFrom,
                            int orcptTo) {
        if (countOffset < 0) {
            throw new IllegalStateException("mailParameters() first");
        }
        putBytes(src, from, to);
        putByte(notify);
        putBytes(orcptSrc, orcptFrom, orcptTo);
        recipients++;
        buf[countOffset] = (byte) (recipients >>> 8);
        buf[countOffset + 1] = (byte) recipients;
        return recipients - 1;
    }

    /** Clears the envelope (RSET, end of transaction). */
    public void reset() {
        len = 0;
        recipients = 0;
        countOffset = -1;
        queueId = 0;
    }

    public boolean started() {
        return countOffset >= 0;
    }

    public long queueId() {
        return queueId;
    }

    public int recipientCount() {
        return recipients;
    }

    /** The encoded envelope, valid from 0 to {@link #length()}; do not modify. */
    public byte[] array() {
        return buf;
    }

    public int length() {
        return len;
    }

    /** For diagnostics and tests only: allocates. */
    public EnvelopeRecord decode() {
        return EnvelopeRecord.decode(ByteBuffer.wrap(buf, 0, len));
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    private void putByte(int b) {
        ensure(1);
        buf[len++] = (byte) b;
    }

    private void putShort(int v) {
        ensure(2);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
    }

    private void putLong(long v) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buf[len++] = (byte) (v >>> shift);
        }
    }

    private void putBytes(byte[] src, int from, int to) {
        int n = checkedLength(from, to);
        putShort(n);
        ensure(n);
        System.arraycopy(src, from, buf, len, n);
        len += n;
    }

    private void putBytes(ByteBuffer src, int from, int to) {
        int n = checkedLength(from, to);
        putShort(n);
        ensure(n);
        if (n > 0) {
            src.get(from, buf, len, n);
        }
        len += n;
    }

    private static int checkedLength(int from, int to) {
        int n = to - from;
        if (n < 0 || n > 0xFFFF) {
            throw new IllegalArgumentException("field length " + n);
        }
        return n;
    }

    /** Convenience for tests and tools: the UTF-8 bytes of a string. */
    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

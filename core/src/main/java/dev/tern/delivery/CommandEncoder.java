package dev.tern.delivery;

import dev.tern.buffer.Ascii;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes the client's SMTP commands straight into a (direct) command buffer: ASCII from constant byte arrays,
 * numbers digit by digit, addresses and parameters character by character (UTF-8 for SMTPUTF8 addresses, RFC 6531),
 * so a transaction's commands cost no String, builder or array. Each method writes one whole command line ending in
 * CRLF at the buffer's position, or throws {@link BufferOverflowException} when the buffer has no room for it; the
 * caller then writes out what is before the command and encodes it again.
 *
 * <p>Threading: stateless.
 */
final class CommandEncoder {
    static final byte[] RSET = ascii("RSET\r\n");
    static final byte[] DATA = ascii("DATA\r\n");
    static final byte[] QUIT = ascii("QUIT\r\n");
    static final byte[] DOT = ascii(".\r\n");
    /** The longest BDAT line: "BDAT " + 19 digits + " LAST" + CRLF. */
    static final int MAX_BDAT_LINE = 5 + 19 + 5 + 2;

    private static final byte[] MAIL_FROM = ascii("MAIL FROM:<");
    private static final byte[] RCPT_TO = ascii("RCPT TO:<");
    private static final byte[] SIZE = ascii(" SIZE=");
    private static final byte[] BODY_8BITMIME = ascii(" BODY=8BITMIME");
    private static final byte[] BODY_7BIT = ascii(" BODY=7BIT");
    private static final byte[] SMTPUTF8 = ascii(" SMTPUTF8");
    private static final byte[] RET_FULL = ascii(" RET=FULL");
    private static final byte[] RET_HDRS = ascii(" RET=HDRS");
    private static final byte[] ENVID = ascii(" ENVID=");
    private static final byte[] NOTIFY = ascii(" NOTIFY=");
    private static final byte[] NEVER = ascii("NEVER");
    private static final byte[] SUCCESS = ascii("SUCCESS");
    private static final byte[] FAILURE = ascii("FAILURE");
    private static final byte[] DELAY = ascii("DELAY");
    private static final byte[] ORCPT = ascii(" ORCPT=");
    private static final byte[] BDAT = ascii("BDAT ");
    private static final byte[] LAST = ascii(" LAST");

    private CommandEncoder() {
    }

    /**
     * {@code MAIL FROM:<sender>} with the parameters the peer understands: SIZE (RFC 1870), BODY (RFC 6152),
     * SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461).
     */
    static void mail(ByteBuffer out, EnvelopeRecord env, long bodyLength, EhloCapabilities caps) {
        out.put(MAIL_FROM);
        text(out, env.sender());
        out.put((byte) '>');
        if (caps.maxSize() > 0) {
            out.put(SIZE);
            number(out, bodyLength);
        }
        if (caps.eightBitMime()) {
            if (env.body() == Envelope.BODY_8BITMIME) {
                out.put(BODY_8BITMIME);
            } else if (env.body() == Envelope.BODY_7BIT) {
                out.put(BODY_7BIT);
            }
        }
        if (caps.smtputf8() && env.smtputf8()) {
            out.put(SMTPUTF8);
        }
        if (caps.dsn()) {
            if (env.ret() == Envelope.RET_FULL) {
                out.put(RET_FULL);
            } else if (env.ret() == Envelope.RET_HDRS) {
                out.put(RET_HDRS);
            }
            if (!env.envid().isEmpty()) {
                out.put(ENVID);
                text(out, env.envid());
            }
        }
        crlf(out);
    }

    /** {@code RCPT TO:<address>} with NOTIFY and ORCPT (RFC 3461 4.1, 4.2) when the peer offers DSN. */
    static void rcpt(ByteBuffer out, EnvelopeRecord.Recipient r, EhloCapabilities caps) {
        out.put(RCPT_TO);
        text(out, r.address());
        out.put((byte) '>');
        if (caps.dsn()) {
            int n = r.notifyFlags();
            if (n != 0) {
                out.put(NOTIFY);
                if ((n & Envelope.NOTIFY_NEVER) != 0) {
                    out.put(NEVER);
                } else {
                    boolean first = true;
                    if ((n & Envelope.NOTIFY_SUCCESS) != 0) {
                        out.put(SUCCESS);
                        first = false;
                    }
                    if ((n & Envelope.NOTIFY_FAILURE) != 0) {
                        if (!first) {
                            out.put((byte) ',');
                        }
                        out.put(FAILURE);
                        first = false;
                    }
                    if ((n & Envelope.NOTIFY_DELAY) != 0) {
                        if (!first) {
                            out.put((byte) ',');
                        }
                        out.put(DELAY);
                    }
                }
            }
            if (!r.orcpt().isEmpty()) {
                out.put(ORCPT);
                text(out, r.orcpt());
            }
        }
        crlf(out);
    }

    /** {@code BDAT size [LAST]} (RFC 3030 2). */
    static void bdat(ByteBuffer out, long size, boolean last) {
        out.put(BDAT);
        number(out, size);
        if (last) {
            out.put(LAST);
        }
        crlf(out);
    }

    /** A command given as text (EHLO and HELO, once per connection), followed by CRLF. */
    static void line(ByteBuffer out, String command) {
        text(out, command);
        crlf(out);
    }

    /** Writes {@code s} as UTF-8 (plain ASCII for every address that does not need SMTPUTF8). */
    static void text(ByteBuffer out, String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out.put((byte) c);
            } else if (c < 0x800) {
                out.put((byte) (0xC0 | c >> 6)).put((byte) (0x80 | c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out.put((byte) (0xF0 | cp >> 18)).put((byte) (0x80 | cp >> 12 & 0x3F))
                        .put((byte) (0x80 | cp >> 6 & 0x3F)).put((byte) (0x80 | cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                out.put((byte) '?'); // an unpaired surrogate has no UTF-8 form (String.getBytes does the same)
            } else {
                out.put((byte) (0xE0 | c >> 12)).put((byte) (0x80 | c >> 6 & 0x3F)).put((byte) (0x80 | c & 0x3F));
            }
        }
    }

    /** Writes a non-negative {@code value} in decimal ASCII. */
    static void number(ByteBuffer out, long value) {
        int digits = Ascii.decimalDigits(value);
        if (out.remaining() < digits) {
            throw new BufferOverflowException();
        }
        int end = out.position() + digits;
        long v = value;
        for (int p = end - 1; p >= out.position(); p--) {
            out.put(p, (byte) ('0' + v % 10));
            v /= 10;
        }
        out.position(end);
    }

    private static void crlf(ByteBuffer out) {
        out.put((byte) '\r').put((byte) '\n');
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

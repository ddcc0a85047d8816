package dev.tern.session;

import dev.tern.buffer.SecondText;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Writes the {@code Received:} trace header (RFC 5321 4.4, RFC 5322 3.6.7) that starts every stored message:
 * <pre>
 * Received: from helo.example ([192.0.2.1])
 *         by tern.example (Tern) with ESMTP id 0193A4F2C81B0007
 *         for &lt;rcpt@example.org&gt;; Wed, 25 Nov 2026 16:40:00 +0000
 * </pre>
 * The client is named by its HELO argument and its address literal only: no reverse DNS lookup. "with" is SMTP,
 * ESMTP or UTF8SMTP (RFC 3848, RFC 6531 3.7.3); "for" appears only with exactly one recipient, so that a message to
 * many recipients does not disclose them to each other (RFC 5321 7.2).
 *
 * <p>Threading: one instance per session; it reuses a scratch array, and the date text is formatted once per second
 * for all sessions ({@link SecondText}), so a message allocates nothing here.
 */
final class ReceivedHeader {
    private static final SecondText DATE = new SecondText(
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC));
    private static final byte[] FROM = ascii("Received: from ");
    private static final byte[] OPEN_LITERAL = ascii(" ([");
    private static final byte[] IPV6 = ascii("IPv6:");
    private static final byte[] BY = ascii("])\r\n\tby ");
    private static final byte[] WITH = ascii(" (Tern) with ");
    private static final byte[] ID = ascii(" id ");
    private static final byte[] FOR = ascii("\r\n\tfor <");
    private static final byte[] FOR_END = ascii(">");
    private static final byte[] DATE_SEP = ascii(";");
    private static final byte[] DATE_SEP_NEWLINE = ascii(";\r\n\t");
    private static final byte[] CRLF = ascii("\r\n");

    private final byte[] hostname;
    private byte[] scratch = new byte[1024];
    private int len;

    ReceivedHeader(byte[] hostname) {
        this.hostname = hostname;
    }

    /**
     * Appends the header to {@code body}.
     *
     * @param protocol  SMTP, ESMTP or UTF8SMTP
     * @param recipient the single recipient's address (or null when there are several), {@code rcptLen} octets
     * @return false when the body could not get a buffer (pool exhausted)
     */
    boolean write(MessageBody body, byte[] helo, byte[] clientAddress, boolean ipv6, byte[] protocol, long queueId,
                  byte[] recipient, int rcptLen, long atMillis) {
        len = 0;
        put(FROM);
        putHelo(helo);
        put(OPEN_LITERAL);
        if (ipv6) {
            put(IPV6);
        }
        put(clientAddress);
        put(BY);
        put(hostname);
        put(WITH);
        put(protocol);
        put(ID);
        ensure(16);
        QueueId.formatInto(queueId, scratch, len);
        len += 16;
        if (recipient != null) {
            put(FOR);
            putSanitized(recipient, rcptLen);
            put(FOR_END);
            put(DATE_SEP);
            put((byte) ' ');
        } else {
            put(DATE_SEP_NEWLINE);
        }
        put(DATE.at(atMillis));
        put(CRLF);
        return body.append(scratch, 0, len);
    }

    /**
     * The HELO argument as the client sent it when it is a domain's letters, digits, '-', '.' and '_', or an address
     * literal; any other octet (an RFC 5322 special such as '"' or ';', a control, 8-bit text) becomes '?', since it
     * could break the header's structure or put 8-bit text into a message that is not SMTPUTF8.
     */
    private void putHelo(byte[] helo) {
        ensure(helo.length);
        boolean literal = isAddressLiteral(helo);
        for (byte b : helo) {
            boolean plain = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                    || b == '-' || b == '.' || b == '_' || literal && (b == '[' || b == ']' || b == ':');
            scratch[len++] = plain ? b : (byte) '?';
        }
    }

    /** {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}: brackets around hex digits, '.' and ':' (a tag allowed). */
    private static boolean isAddressLiteral(byte[] helo) {
        if (helo.length < 3 || helo[0] != '[' || helo[helo.length - 1] != ']') {
            return false;
        }
        for (int i = 1; i < helo.length - 1; i++) {
            byte b = helo[i];
            boolean ok = b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' || b == '.' || b == ':'
                    || b == 'I' || b == 'P' || b == 'v';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Client-supplied text: CR, LF, controls and parentheses could break the header's structure, so they become ?. */
    private void putSanitized(byte[] src, int n) {
        ensure(n);
        for (int i = 0; i < n; i++) {
            byte b = src[i];
            boolean unsafe = (b >= 0 && b < 0x21) || b == 0x7F || b == '(' || b == ')';
            scratch[len++] = unsafe ? (byte) '?' : b;
        }
    }

    private void put(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, scratch, len, b.length);
        len += b.length;
    }

    private void put(byte b) {
        ensure(1);
        scratch[len++] = b;
    }

    private void ensure(int extra) {
        if (len + extra > scratch.length) {
            scratch = java.util.Arrays.copyOf(scratch, Math.max(scratch.length * 2, len + extra));
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

package dev.tern.delivery;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.function.IntPredicate;

/**
 * Builds delivery status notifications (RFC 3464): a {@code multipart/report; report-type=delivery-status} message
 * with a human-readable part, the machine-readable {@code message/delivery-status} part (Reporting-MTA,
 * Original-Envelope-Id, per recipient Final-Recipient, Original-Recipient, Action, Status, Remote-MTA,
 * Diagnostic-Code) and the original message, or only its headers when the sender asked RET=HDRS (RFC 3461 4.3).
 * The DSN is addressed to the original envelope sender with the null reverse-path (RFC 5321 4.5.5), so it can
 * never cause another bounce.
 *
 * <p>Threading: stateless apart from settings; any thread. Ownership: the returned body's buffers belong to the
 * caller, who must release them.
 */
final class DsnBuilder {
    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    /**
     * One recipient to report on: {@code relayed} (handed to a next hop that takes no DSN parameters, RFC 3461 5.2.2)
     * or failed. {@code remote} is the hop that answered, or null for a local verdict.
     */
    record Entry(EnvelopeRecord.Recipient recipient, boolean relayed, SmtpReply reply, HostPort remote) {
    }

    /** A DSN ready to commit: the caller must {@code body.release()} after the commit. */
    record Dsn(Envelope envelope, MessageBody body) {
    }

    private final String reportingMta;
    private final BufferPool pool;

    DsnBuilder(String reportingMta, BufferPool pool) {
        this.reportingMta = reportingMta;
        this.pool = pool;
    }

    /**
     * Originals larger than this come back as headers only (like Postfix's bounce_size_limit): a bounce must not
     * mail a large message back to its sender.
     */
    static final long FULL_RETURN_LIMIT = 50_000;

    Dsn build(EnvelopeRecord original, long originalLength, List<Entry> entries, BodyReader originalBody,
              long nowMillis) throws JournalException {
        long id = QueueId.next();
        boolean success = entries.stream().allMatch(Entry::relayed);
        // 8-bit text comes only from the original: its body, or (SMTPUTF8) its addresses. Next hops' texts are
        // made ASCII below, and message/delivery-status is US-ASCII throughout (RFC 3464 2, RFC 6533 3).
        boolean eightBit = original.body() == Envelope.BODY_8BITMIME || original.body() == Envelope.BODY_BINARYMIME
                || original.smtputf8();
        String boundary = boundary(id);
        StringBuilder h = new StringBuilder(2048);
        line(h, "From: Mail Delivery System <MAILER-DAEMON@" + reportingMta + ">");
        line(h, "To: <" + original.sender() + ">");
        line(h, "Subject: " + (success ? "Successful Mail Delivery Report" : "Undelivered Mail Returned to Sender"));
        line(h, "Date: " + DATE.format(Instant.ofEpochMilli(nowMillis)));
        line(h, "Message-ID: <" + QueueId.format(id) + ".dsn@" + reportingMta + ">");
        line(h, "Auto-Submitted: auto-replied"); // RFC 3834 5
        line(h, "MIME-Version: 1.0");
        line(h, "Content-Type: multipart/report; report-type=delivery-status;");
        line(h, "\tboundary=\"" + boundary + "\"");
        line(h, "Content-Transfer-Encoding: " + (eightBit ? "8bit" : "7bit"));
        line(h, "");
        line(h, "This is a MIME-encapsulated message.");
        line(h, "");
        line(h, "--" + boundary);
        line(h, "Content-Description: Notification");
        line(h, "Content-Type: text/plain; charset=utf-8");
        line(h, "");
        line(h, "This is the mail system at host " + reportingMta + ".");
        line(h, "");
        if (success) {
            line(h, "Your message was relayed to the following recipients. The next mail system does not report");
            line(h, "delivery, so you may still hear of problems from systems further along:");
        } else {
            line(h, "I'm sorry to have to inform you that your message could not be delivered to one or more");
            line(h, "recipients. The reasons are listed below.");
        }
        line(h, "");
        for (Entry e : entries) {
            line(h, "<" + e.recipient().address() + ">: " + (e.remote() == null ? "" : "host " + e.remote()
                    + " said: ") + ascii(e.reply().oneLine()));
        }
        line(h, "");
        line(h, "--" + boundary);
        line(h, "Content-Description: Delivery report");
        line(h, "Content-Type: message/delivery-status");
        line(h, "");
        line(h, "Reporting-MTA: dns; " + reportingMta);
        line(h, "X-Tern-Queue-ID: " + QueueId.format(original.queueId()));
        if (!original.envid().isEmpty()) {
            line(h, "Original-Envelope-Id: " + ascii(xtextDecode(original.envid())));
        }
        line(h, "Arrival-Date: " + DATE.format(Instant.ofEpochMilli(original.receivedAtMillis())));
        for (Entry e : entries) {
            line(h, "");
            line(h, "Final-Recipient: " + addressField(e.recipient().address()));
            if (!e.recipient().orcpt().isEmpty()) {
                line(h, "Original-Recipient: " + originalRecipientField(xtextDecode(e.recipient().orcpt())));
            }
            // RFC 3464 2.3.3: a relay that hands mail on has not delivered it.
            line(h, "Action: " + (e.relayed() ? "relayed" : "failed"));
            line(h, "Status: " + e.reply().status());
            if (e.remote() != null) {
                line(h, "Remote-MTA: dns; " + e.remote().host());
            }
            line(h, "Diagnostic-Code: smtp; " + ascii(e.reply().oneLine()));
            line(h, "Last-Attempt-Date: " + DATE.format(Instant.ofEpochMilli(nowMillis)));
        }
        line(h, "");
        boolean headersOnly = original.ret() == Envelope.RET_HDRS || originalLength > FULL_RETURN_LIMIT;
        line(h, "--" + boundary);
        line(h, "Content-Description: " + (headersOnly ? "Message Headers" : "Undelivered Message"));
        line(h, "Content-Type: " + (headersOnly ? "text/rfc822-headers" : "message/rfc822"));
        line(h, "");

        MessageBody body = new MessageBody(pool);
        boolean done = false;
        try {
            byte[] head = h.toString().getBytes(StandardCharsets.UTF_8);
            if (!body.append(head, 0, head.length)) {
                throw exhausted();
            }
            OriginalCopier copier = new OriginalCopier(body, headersOnly);
            originalBody.read(copier);
            if (copier.failed) {
                throw exhausted();
            }
            byte[] tail = ((copier.endsWithCrlf() ? "" : "\r\n") + "\r\n--" + boundary + "--\r\n")
                    .getBytes(StandardCharsets.UTF_8);
            if (!body.append(tail, 0, tail.length)) {
                throw exhausted();
            }
            body.seal();
            Envelope env = new Envelope();
            env.begin(id, nowMillis, Envelope.utf8("127.0.0.1"), Envelope.utf8(reportingMta));
            ByteBuffer empty = ByteBuffer.allocate(0);
            env.sender(empty, 0, 0);
            env.mailParameters(body.length(), eightBit ? Envelope.BODY_8BITMIME : Envelope.BODY_7BIT,
                    original.smtputf8(), Envelope.RET_UNSPECIFIED, empty, 0, 0);
            ByteBuffer to = ByteBuffer.wrap(Envelope.utf8(original.sender()));
            env.addRecipient(to, 0, to.limit(), 0, empty, 0, 0);
            done = true;
            return new Dsn(env, body);
        } finally {
            if (!done) {
                body.release();
            }
        }
    }

    /** RFC 2046 5.1.1: at most 70 characters. The queue id makes it unique; the MTA name, if it fits, readable. */
    private String boundary(long id) {
        String b = QueueId.format(id) + "/" + reportingMta;
        return b.length() <= 70 ? b : b.substring(0, 70);
    }

    /** A next hop's text for a US-ASCII field: anything else becomes '?' (a hostile peer chooses these bytes). */
    static String ascii(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0x7E) {
                if (sb == null) {
                    sb = new StringBuilder(text.length()).append(text, 0, i);
                }
                sb.append('?');
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** RFC 3464 2.3.2 with RFC 6533 3: {@code rfc822; ADDRESS}, or {@code utf-8; ...} for an SMTPUTF8 address. */
    static String addressField(String address) {
        return ascii(address).equals(address) ? "rfc822; " + address : "utf-8; " + utf8AddrXtext(address);
    }

    /**
     * RFC 6533 3 utf-8-addr-xtext: every character but QCHAR ({@code %x21-2A / %x2C-3C / %x3E-5B / %x5D-7E}) as
     * {@code \x{HEX}}, so that the field stays US-ASCII.
     */
    static String utf8AddrXtext(String address) {
        return escaped(address, cp -> cp < 0x21 || cp > 0x7E || cp == '+' || cp == '=' || cp == '\\');
    }

    /** An ORCPT value (RFC 3461 4.2, already xtext-decoded) for a US-ASCII field: non-ASCII as {@code \x{HEX}}. */
    static String originalRecipientField(String orcpt) {
        return escaped(orcpt, cp -> cp > 0x7E);
    }

    private static String escaped(String text, IntPredicate escape) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (escape.test(cp)) {
                sb.append("\\x{").append(Integer.toHexString(cp).toUpperCase(Locale.ROOT)).append('}');
            } else {
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }

    private static JournalException exhausted() {
        return new JournalException("buffer pool exhausted while building a DSN");
    }

    private static void line(StringBuilder sb, String s) {
        sb.append(s).append("\r\n");
    }

    /** RFC 3461 4: xtext {@code +XX} escapes decoded; anything malformed is kept as is. */
    static String xtextDecode(String xtext) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(xtext.length());
        byte[] b = xtext.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '+' && i + 2 < b.length && hex(b[i + 1]) >= 0 && hex(b[i + 2]) >= 0) {
                int v = hex(b[i + 1]) * 16 + hex(b[i + 2]);
                out.write(v < 0x20 || v == 0x7f ? '?' : v); // never let CR/LF into a header line
                i += 2;
            } else {
                out.write(b[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /**
     * Copies the original content into the DSN body, stopping after the header block for RET=HDRS. Pieces may end
     * anywhere, also between the CR and the LF of the blank line that ends the header block: a CR that may begin
     * that blank line is held back until the next piece shows whether an LF follows.
     */
    private static final class OriginalCopier implements java.util.function.Consumer<ByteBuffer> {
        private static final byte[] END_OF_HEADERS = {'\r', '\n', '\r', '\n'};
        private static final ByteBuffer CR = ByteBuffer.wrap(new byte[] {'\r'}).asReadOnlyBuffer();
        private final MessageBody body;
        private final boolean headersOnly;
        private int matched;
        private boolean heldCr;
        private boolean stopped;
        private boolean failed;
        private byte last1;
        private byte last2;

        OriginalCopier(MessageBody body, boolean headersOnly) {
            this.body = body;
            this.headersOnly = headersOnly;
        }

        @Override
        public void accept(ByteBuffer piece) {
            if (stopped || failed || !piece.hasRemaining()) {
                return;
            }
            int start = piece.position();
            int end = piece.limit();
            boolean dropHeldCr = false;
            if (headersOnly) {
                for (int i = start; i < end; i++) {
                    byte b = piece.get(i);
                    matched = b == END_OF_HEADERS[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
                    if (matched == 4) {
                        // Keep the CRLF that ends the last header line, drop the blank line.
                        dropHeldCr = i == start;
                        end = Math.max(start, i - 1);
                        stopped = true;
                        break;
                    }
                }
            }
            if (heldCr) {
                heldCr = false;
                if (!dropHeldCr) {
                    copy(CR.duplicate());
                }
            }
            if (headersOnly && !stopped && matched == 3) {
                end--; // this piece's last byte is a CR that may begin the blank line
                heldCr = true;
            }
            copy(piece.duplicate().position(start).limit(end));
        }

        private void copy(ByteBuffer src) {
            int n = src.remaining();
            if (n >= 2) {
                last2 = src.get(src.limit() - 2);
                last1 = src.get(src.limit() - 1);
            } else if (n == 1) {
                last2 = last1;
                last1 = src.get(src.position());
            }
            while (src.hasRemaining() && !failed) {
                ByteBuffer dst = body.writable();
                if (dst == null) {
                    failed = true;
                    return;
                }
                int k = Math.min(dst.remaining(), src.remaining());
                dst.put(src.slice(src.position(), k));
                src.position(src.position() + k);
            }
        }

        boolean endsWithCrlf() {
            return last2 == '\r' && last1 == '\n' || (last1 == 0 && last2 == 0);
        }
    }
}

package dev.tern.protocol;

import dev.tern.message.Envelope;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A reusable, mutable view of one parsed command line, filled by {@link CommandParser#parse}. All ranges are absolute
 * indexes into {@link #buffer()}, the buffer the line was parsed from; they are valid only until the caller compacts
 * or refills that buffer, so copy what must outlive the line (e.g. into an {@link Envelope}) before reading on.
 *
 * <p>Which fields are meaningful depends on {@link #verb()} (others hold their cleared values):
 * HELO/EHLO {@link #domainStart()}; MAIL and RCPT {@link #pathStart()} (an empty range is {@code <>}), MAIL's
 * {@link #size()}, {@link #body()}, {@link #smtputf8()}, {@link #ret()}, ENVID; RCPT's {@link #notifyFlags()} and
 * ORCPT; BDAT {@link #chunkSize()} and {@link #last()}; every verb its raw {@link #argStart()} range.
 *
 * <p>Threading: not thread-safe; one instance per session, reused for every command. No allocation except
 * {@link #toString()}, which is for diagnostics only.
 */
public final class Command {
    Verb verb = Verb.UNKNOWN;
    ByteBuffer buffer;
    int lineStart;
    int lineEnd;
    int argStart;
    int argEnd;
    int domainStart;
    int domainEnd;
    int pathStart;
    int pathEnd;
    boolean postmaster;
    boolean utf8;
    long size;
    int body;
    boolean smtputf8;
    int ret;
    int envidStart;
    int envidEnd;
    int notify;
    int orcptStart;
    int orcptEnd;
    long chunkSize;
    boolean last;

    /** Clears every field; the parser calls this first. */
    void clear(ByteBuffer in, int start, int end) {
        verb = Verb.UNKNOWN;
        buffer = in;
        lineStart = start;
        lineEnd = end;
        argStart = end;
        argEnd = end;
        domainStart = 0;
        domainEnd = 0;
        pathStart = 0;
        pathEnd = 0;
        postmaster = false;
        utf8 = false;
        size = -1;
        body = Envelope.BODY_UNSPECIFIED;
        smtputf8 = false;
        ret = Envelope.RET_UNSPECIFIED;
        envidStart = 0;
        envidEnd = 0;
        notify = 0;
        orcptStart = 0;
        orcptEnd = 0;
        chunkSize = -1;
        last = false;
    }

    /** The verb; {@link Verb#UNKNOWN} when the line did not start with one. */
    public Verb verb() {
        return verb;
    }

    /** The buffer the ranges index into (the one given to the parser). */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Absolute start of the whole line (CRLF excluded). */
    public int lineStart() {
        return lineStart;
    }

    /** Absolute end of the whole line (CRLF excluded). */
    public int lineEnd() {
        return lineEnd;
    }

    /** Absolute start of the argument text after the verb and one SP (equals {@link #argEnd()} if none). */
    public int argStart() {
        return argStart;
    }

    /** Absolute end of the argument text. */
    public int argEnd() {
        return argEnd;
    }

    /** HELO/EHLO: the client's domain or address literal. */
    public int domainStart() {
        return domainStart;
    }

    public int domainEnd() {
        return domainEnd;
    }

    /**
     * MAIL/RCPT: the mailbox without angle brackets and without any source route (RFC 5321 4.1.2, C.2); an empty
     * range is the null reverse-path {@code <>}. For RCPT it may be the bare {@code Postmaster} (RFC 5321 4.5.1).
     */
    public int pathStart() {
        return pathStart;
    }

    public int pathEnd() {
        return pathEnd;
    }

    /** RCPT: the path is the bare {@code <Postmaster>}, any case, no domain (RFC 5321 4.5.1). */
    public boolean postmaster() {
        return postmaster;
    }

    /**
     * MAIL/RCPT: the path (or, for RCPT, a {@code utf-8} ORCPT, RFC 6533 3) contains non-ASCII (UTF-8) octets. For
     * MAIL the parser already required SMTPUTF8; for RCPT the session must check that the transaction's MAIL had
     * SMTPUTF8 (RFC 6531 3.4), else answer {@link Replies#UTF8_NOT_PERMITTED}.
     */
    public boolean utf8() {
        return utf8;
    }

    /** MAIL: the SIZE parameter (RFC 1870), saturated at {@link Long#MAX_VALUE}; -1 if absent. */
    public long size() {
        return size;
    }

    /** MAIL: BODY= as an {@code Envelope.BODY_*} constant. */
    public int body() {
        return body;
    }

    /** MAIL: the SMTPUTF8 parameter was given (RFC 6531 3.4). */
    public boolean smtputf8() {
        return smtputf8;
    }

    /** MAIL: RET= as an {@code Envelope.RET_*} constant (RFC 3461 4.3). */
    public int ret() {
        return ret;
    }

    /** MAIL: the ENVID xtext as received (RFC 3461 4.4); empty range if absent. */
    public int envidStart() {
        return envidStart;
    }

    public int envidEnd() {
        return envidEnd;
    }

    /**
     * RCPT: NOTIFY= as {@code Envelope.NOTIFY_*} bits; 0 if absent (RFC 3461 4.1). Not named {@code notify()}
     * because {@link Object#notify()} is final.
     */
    public int notifyFlags() {
        return notify;
    }

    /** RCPT: the ORCPT value {@code addr-type;xtext} as received (RFC 3461 4.2); empty range if absent. */
    public int orcptStart() {
        return orcptStart;
    }

    public int orcptEnd() {
        return orcptEnd;
    }

    /** BDAT: the chunk size in octets (RFC 3030 2). */
    public long chunkSize() {
        return chunkSize;
    }

    /** BDAT: the LAST marker was given. */
    public boolean last() {
        return last;
    }

    /** For diagnostics only: allocates, and shows the line with non-printable octets escaped. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Command[").append(verb);
        if (buffer != null && lineEnd > lineStart) {
            sb.append(" line=\"");
            appendEscaped(sb, buffer, lineStart, lineEnd, 200);
            sb.append('"');
        }
        if (verb == Verb.MAIL || verb == Verb.RCPT) {
            sb.append(" path=\"");
            appendEscaped(sb, buffer, pathStart, pathEnd, 300);
            sb.append('"');
        }
        return sb.append(']').toString();
    }

    /** Appends {@code src[from, to)} with octets outside printable ASCII as {@code \xNN}, truncated to max octets. */
    static void appendEscaped(StringBuilder sb, ByteBuffer src, int from, int to, int max) {
        if (src == null) {
            return;
        }
        int end = Math.min(to, from + max);
        for (int i = from; i < end; i++) {
            int b = src.get(i) & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '\\' && b != '"') {
                sb.append((char) b);
            } else {
                sb.append(String.format("\\x%02X", b));
            }
        }
        if (end < to) {
            sb.append("...");
        }
    }

    /** For tests and diagnostics: the octets of a range as a UTF-8 string (allocates). */
    public String text(int from, int to) {
        byte[] b = new byte[to - from];
        buffer.get(from, b);
        return new String(b, StandardCharsets.UTF_8);
    }
}

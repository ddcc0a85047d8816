package dev.tern.protocol;

import dev.tern.message.Envelope;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Parses one SMTP command line (CRLF already removed by {@link LineFramer}) into a reusable {@link Command}: the verb
 * (RFC 5321 4.1), the mailbox of MAIL/RCPT (4.1.2) with its limits (4.5.3.1), and the ESMTP parameters Tern
 * advertises: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461) and the
 * BDAT arguments (RFC 3030).
 *
 * <p>Verbs are matched as packed, case-folded ints, never decoded to a String. The parser is strict about the mailbox
 * grammar and parameter values (they end up in the journal and in the next hop's envelope) and lenient only where
 * RFC 5321 allows an argument or where clients commonly add harmless spaces ({@code MAIL FROM: <a@b>}, trailing SP).
 *
 * <p>Threading: not thread-safe; one instance per session (it keeps a scan cursor). Never throws on client input,
 * reads only {@code in[start, end)}, and does not allocate.
 */
public final class CommandParser {
    /** RFC 1870 6: SIZE adds 26 octets to the MAIL command line. */
    public static final int SIZE_ALLOWANCE = 26;
    /** RFC 3461 4: ENVID and RET add 100 octets to MAIL. */
    public static final int DSN_MAIL_ALLOWANCE = 100;
    /** RFC 3461 4: NOTIFY and ORCPT add 500 octets to RCPT. */
    public static final int DSN_RCPT_ALLOWANCE = 500;
    /** RFC 6531 3.4: SMTPUTF8 adds 10 octets. */
    public static final int UTF8_ALLOWANCE = 10;

    /** RFC 5321 4.5.3.1.1-3. */
    static final int MAX_LOCAL_PART = 64;
    static final int MAX_DOMAIN = 255;
    static final int MAX_PATH = 256;
    private static final int MAX_LABEL = 63;
    /** RFC 3461 4.4 and 4.2. */
    static final int MAX_ENVID = 100;
    static final int MAX_ORCPT = 500;
    /** RFC 1870: size-value = 1*20DIGIT. */
    private static final int MAX_SIZE_DIGITS = 20;
    /** BDAT sizes: 18 digits always fit in a long. */
    private static final int MAX_CHUNK_DIGITS = 18;

    private static final byte SP = ' ';

    private static final int W_HELO = word('h', 'e', 'l', 'o');
    private static final int W_EHLO = word('e', 'h', 'l', 'o');
    private static final int W_MAIL = word('m', 'a', 'i', 'l');
    private static final int W_RCPT = word('r', 'c', 'p', 't');
    private static final int W_DATA = word('d', 'a', 't', 'a');
    private static final int W_BDAT = word('b', 'd', 'a', 't');
    private static final int W_RSET = word('r', 's', 'e', 't');
    private static final int W_NOOP = word('n', 'o', 'o', 'p');
    private static final int W_QUIT = word('q', 'u', 'i', 't');
    private static final int W_VRFY = word('v', 'r', 'f', 'y');
    private static final int W_EXPN = word('e', 'x', 'p', 'n');
    private static final int W_HELP = word('h', 'e', 'l', 'p');
    private static final int W_STAR = word('s', 't', 'a', 'r');
    private static final int W_TTLS = word('t', 't', 'l', 's');
    private static final int W_TURN = word('t', 'u', 'r', 'n');
    private static final int W_SEND = word('s', 'e', 'n', 'd');
    private static final int W_SOML = word('s', 'o', 'm', 'l');
    private static final int W_SAML = word('s', 'a', 'm', 'l');

    private static final byte[] FROM = lower("from:");
    private static final byte[] TO = lower("to:");
    private static final byte[] POSTMASTER = lower("postmaster");
    private static final byte[] LAST = lower("last");
    private static final byte[] P_SIZE = lower("size");
    private static final byte[] P_BODY = lower("body");
    private static final byte[] P_SMTPUTF8 = lower("smtputf8");
    private static final byte[] P_RET = lower("ret");
    private static final byte[] P_ENVID = lower("envid");
    private static final byte[] P_NOTIFY = lower("notify");
    private static final byte[] P_ORCPT = lower("orcpt");
    private static final byte[] V_7BIT = lower("7bit");
    private static final byte[] V_8BITMIME = lower("8bitmime");
    private static final byte[] V_FULL = lower("full");
    private static final byte[] V_HDRS = lower("hdrs");
    private static final byte[] V_NEVER = lower("never");
    private static final byte[] V_SUCCESS = lower("success");
    private static final byte[] V_FAILURE = lower("failure");
    private static final byte[] V_DELAY = lower("delay");
    private static final byte[] V_UTF8 = lower("utf-8");

    private static final int SEEN_SIZE = 1;
    private static final int SEEN_BODY = 2;
    private static final int SEEN_SMTPUTF8 = 4;
    private static final int SEEN_RET = 8;
    private static final int SEEN_ENVID = 16;
    private static final int SEEN_NOTIFY = 32;
    private static final int SEEN_ORCPT = 64;

    /** RFC 5321 4.1.2 atext (RFC 5322 3.2.3): ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~". */
    private static final boolean[] ATEXT = new boolean[128];

    static {
        for (int c = 'a'; c <= 'z'; c++) {
            ATEXT[c] = true;
            ATEXT[c - 32] = true;
        }
        for (int c = '0'; c <= '9'; c++) {
            ATEXT[c] = true;
        }
        for (char c : "!#$%&'*+-/=?^_`{|}~".toCharArray()) {
            ATEXT[c] = true;
        }
    }

    private final int maxCommandLine;
    /** Scan cursor shared by the helper methods (absolute index into the line being parsed). */
    private int pos;
    /** Whether the path or a parameter held octets >= 0x80. */
    private boolean sawUtf8;

    /** @param maxCommandLine octets in a command line, CRLF included (RFC 5321 4.5.3.1.4: 512) */
    public CommandParser(int maxCommandLine) {
        if (maxCommandLine < 16) {
            throw new IllegalArgumentException("maxCommandLine too small: " + maxCommandLine);
        }
        this.maxCommandLine = maxCommandLine;
    }

    /**
     * The {@link LineFramer} limit that goes with a command-line limit: the longest line any verb may have (RCPT with
     * its RFC 3461 and RFC 6531 allowances), so that the parser, not the framer, decides per verb.
     */
    public static int framerLimit(int maxCommandLine) {
        return maxCommandLine + DSN_RCPT_ALLOWANCE + UTF8_ALLOWANCE;
    }

    /** The longest line accepted for {@code verb}, CRLF included. */
    public int maxLine(Verb verb) {
        return switch (verb) {
            case MAIL -> maxCommandLine + SIZE_ALLOWANCE + DSN_MAIL_ALLOWANCE + UTF8_ALLOWANCE;
            case RCPT -> maxCommandLine + DSN_RCPT_ALLOWANCE + UTF8_ALLOWANCE;
            default -> maxCommandLine;
        };
    }

    /**
     * Parses the line {@code in[start, end)} (without CRLF) into {@code out} and returns a {@link ParseStatus}
     * constant. {@code out.verb()} is set whenever the verb was recognised, even if its arguments were bad, so the
     * session can pick the right reply (e.g. {@link Replies#forStatus(int, Verb)}).
     */
    public int parse(ByteBuffer in, int start, int end, Command out) {
        out.clear(in, start, end);
        if (start < 0 || end > in.limit() || start > end) {
            return ParseStatus.SYNTAX;
        }
        int verbLength = identifyVerb(in, start, end, out);
        if (verbLength == 0) {
            return end - start + 2 > maxCommandLine ? ParseStatus.LINE_TOO_LONG : ParseStatus.UNKNOWN_VERB;
        }
        Verb verb = out.verb;
        if (end - start + 2 > maxLine(verb)) {
            return ParseStatus.LINE_TOO_LONG;
        }
        int argStart = start + verbLength;
        if (argStart < end) {
            argStart++; // the SP after the verb, checked by identifyVerb
        }
        out.argStart = argStart;
        out.argEnd = end;
        return switch (verb) {
            case HELO, EHLO -> parseHelo(in, argStart, end, out);
            case MAIL -> parseMail(in, argStart, end, out);
            case RCPT -> parseRcpt(in, argStart, end, out);
            case BDAT -> parseBdat(in, argStart, end, out);
            // RFC 5321 4.1.1.4/5/10, RFC 3207 4, RFC 821 TURN: no argument.
            case DATA, RSET, QUIT, STARTTLS, TURN -> blank(in, argStart, end) ? ParseStatus.OK : ParseStatus.SYNTAX;
            // RFC 5321 4.1.1.6/7: VRFY and EXPN need a string.
            case VRFY, EXPN -> blank(in, argStart, end) ? ParseStatus.SYNTAX : ParseStatus.OK;
            // NOOP and HELP take an optional string (4.1.1.8/9); SEND/SOML/SAML are answered 502 by the session.
            default -> ParseStatus.OK;
        };
    }

    /** Sets {@code out.verb} and returns the verb's length, or 0 if the line does not start with a verb + SP/end. */
    private static int identifyVerb(ByteBuffer in, int start, int end, Command out) {
        if (end - start < 4) {
            return 0;
        }
        int w = packed(in, start);
        Verb verb;
        int length = 4;
        if (w == W_STAR) {
            if (end - start < 8 || packed(in, start + 4) != W_TTLS) {
                return 0;
            }
            verb = Verb.STARTTLS;
            length = 8;
        } else if (w == W_MAIL) {
            verb = Verb.MAIL;
        } else if (w == W_RCPT) {
            verb = Verb.RCPT;
        } else if (w == W_DATA) {
            verb = Verb.DATA;
        } else if (w == W_BDAT) {
            verb = Verb.BDAT;
        } else if (w == W_EHLO) {
            verb = Verb.EHLO;
        } else if (w == W_HELO) {
            verb = Verb.HELO;
        } else if (w == W_RSET) {
            verb = Verb.RSET;
        } else if (w == W_NOOP) {
            verb = Verb.NOOP;
        } else if (w == W_QUIT) {
            verb = Verb.QUIT;
        } else if (w == W_VRFY) {
            verb = Verb.VRFY;
        } else if (w == W_EXPN) {
            verb = Verb.EXPN;
        } else if (w == W_HELP) {
            verb = Verb.HELP;
        } else if (w == W_TURN) {
            verb = Verb.TURN;
        } else if (w == W_SEND) {
            verb = Verb.SEND;
        } else if (w == W_SOML) {
            verb = Verb.SOML;
        } else if (w == W_SAML) {
            verb = Verb.SAML;
        } else {
            return 0;
        }
        if (start + length < end && in.get(start + length) != SP) {
            return 0; // e.g. "MAILX": a different word
        }
        out.verb = verb;
        return length;
    }

    /** RFC 5321 4.1.1.1: {@code HELO SP Domain}, {@code EHLO SP (Domain / address-literal)}. */
    private static int parseHelo(ByteBuffer in, int p, int end, Command out) {
        p = skipSpaces(in, p, end);
        int domainStart = p;
        while (p < end && in.get(p) != SP) {
            int b = in.get(p) & 0xFF;
            if (b < 0x21 || b == 0x7F) {
                return ParseStatus.SYNTAX;
            }
            p++;
        }
        int domainEnd = p;
        if (domainEnd == domainStart || domainEnd - domainStart > MAX_DOMAIN) {
            return ParseStatus.SYNTAX;
        }
        out.domainStart = domainStart;
        out.domainEnd = domainEnd;
        // Some clients add text after the domain; RFC 5321 does not allow it but it is harmless, so it is ignored.
        return ParseStatus.OK;
    }

    private int parseMail(ByteBuffer in, int p, int end, Command out) {
        p = skipSpaces(in, p, end);
        if (!matchesIgnoreCase(in, p, end, FROM)) {
            return ParseStatus.SYNTAX;
        }
        p = skipSpaces(in, p + FROM.length, end);
        if (p == end) {
            return ParseStatus.SYNTAX;
        }
        int status = parsePath(in, p, end, out, true);
        if (status != ParseStatus.OK) {
            return status;
        }
        boolean pathUtf8 = sawUtf8;
        status = parseParams(in, pos, end, out, true);
        if (status != ParseStatus.OK) {
            return status;
        }
        if ((pathUtf8 || sawUtf8) && !out.smtputf8) {
            return ParseStatus.UTF8_PATH_WITHOUT_SMTPUTF8;
        }
        out.utf8 = pathUtf8;
        return ParseStatus.OK;
    }

    private int parseRcpt(ByteBuffer in, int p, int end, Command out) {
        p = skipSpaces(in, p, end);
        if (!matchesIgnoreCase(in, p, end, TO)) {
            return ParseStatus.SYNTAX;
        }
        p = skipSpaces(in, p + TO.length, end);
        if (p == end) {
            return ParseStatus.SYNTAX;
        }
        int status = parsePath(in, p, end, out, false);
        if (status != ParseStatus.OK) {
            return status;
        }
        boolean pathUtf8 = sawUtf8;
        status = parseParams(in, pos, end, out, false);
        if (status != ParseStatus.OK) {
            return status;
        }
        // Whether the transaction allows UTF-8 is the session's knowledge (the MAIL's SMTPUTF8): it checks utf8().
        out.utf8 = pathUtf8 || sawUtf8;
        return ParseStatus.OK;
    }

    /** RFC 3030 2: {@code BDAT SP chunk-size [SP end-marker]}. */
    private static int parseBdat(ByteBuffer in, int p, int end, Command out) {
        int digitsStart = p;
        long size = 0;
        while (p < end && isDigit(in.get(p))) {
            size = size * 10 + (in.get(p) - '0');
            p++;
            if (p - digitsStart > MAX_CHUNK_DIGITS) {
                return ParseStatus.SYNTAX;
            }
        }
        if (p == digitsStart) {
            return ParseStatus.SYNTAX;
        }
        out.chunkSize = size;
        if (p < end && in.get(p) == SP) {
            p = skipSpaces(in, p, end);
            if (p < end) {
                if (!matchesIgnoreCase(in, p, end, LAST)) {
                    return ParseStatus.SYNTAX;
                }
                out.last = true;
                p += LAST.length;
            }
        }
        return blank(in, p, end) ? ParseStatus.OK : ParseStatus.SYNTAX;
    }

    /**
     * RFC 5321 4.1.2: {@code "<" [ A-d-l ":" ] Mailbox ">"}, the null path {@code <>} for MAIL only and the bare
     * {@code <Postmaster>} for RCPT only (4.5.1). On success {@link #pos} is just past the {@code >}.
     */
    private int parsePath(ByteBuffer in, int p, int end, Command out, boolean mail) {
        sawUtf8 = false;
        int open = p;
        if (p >= end || in.get(p) != '<') {
            return ParseStatus.BAD_PATH;
        }
        p++;
        if (p < end && in.get(p) == '>') {
            if (!mail) {
                return ParseStatus.BAD_PATH;
            }
            out.pathStart = p;
            out.pathEnd = p;
            pos = p + 1;
            return ParseStatus.OK;
        }
        if (p < end && in.get(p) == '@') {
            // RFC 5321 4.1.2 A-d-l (source route): accepted and ignored (C.2, F.2).
            while (true) {
                p = domain(in, p + 1, end, false);
                if (p < 0) {
                    return ParseStatus.BAD_PATH;
                }
                if (p < end && in.get(p) == ',' && p + 1 < end && in.get(p + 1) == '@') {
                    p++;
                    continue;
                }
                break;
            }
            if (p >= end || in.get(p) != ':') {
                return ParseStatus.BAD_PATH;
            }
            p++;
        }
        int mailboxStart = p;
        if (!mail && matchesIgnoreCase(in, p, end, POSTMASTER) && p + POSTMASTER.length < end
                && in.get(p + POSTMASTER.length) == '>' && mailboxStart == open + 1) {
            p += POSTMASTER.length;
            out.postmaster = true;
        } else {
            p = localPart(in, p, end);
            if (p < 0 || p - mailboxStart > MAX_LOCAL_PART) {
                return ParseStatus.BAD_PATH;
            }
            if (p >= end || in.get(p) != '@') {
                return ParseStatus.BAD_PATH;
            }
            int domainStart = p + 1;
            p = domainStart < end && in.get(domainStart) == '['
                    ? addressLiteral(in, domainStart, end)
                    : domain(in, domainStart, end, true);
            if (p < 0 || p - domainStart > MAX_DOMAIN) {
                return ParseStatus.BAD_PATH;
            }
        }
        if (p >= end || in.get(p) != '>') {
            return ParseStatus.BAD_PATH;
        }
        if (p + 1 - open > MAX_PATH) {
            return ParseStatus.BAD_PATH;
        }
        if (sawUtf8 && !validUtf8(in, mailboxStart, p)) {
            return ParseStatus.BAD_PATH;
        }
        out.pathStart = mailboxStart;
        out.pathEnd = p;
        pos = p + 1;
        return ParseStatus.OK;
    }

    /** RFC 5321 4.1.2 Local-part = Dot-string / Quoted-string (RFC 6531 adds UTF-8). Returns the end or -1. */
    private int localPart(ByteBuffer in, int p, int end) {
        if (p < end && in.get(p) == '"') {
            p++;
            while (p < end) {
                int b = in.get(p) & 0xFF;
                if (b == '"') {
                    return p + 1;
                }
                if (b == '\\') {
                    // quoted-pairSMTP = %d92 %d32-126
                    if (p + 1 >= end) {
                        return -1;
                    }
                    int q = in.get(p + 1) & 0xFF;
                    if (q < 32 || q > 126) {
                        return -1;
                    }
                    p += 2;
                    continue;
                }
                if (b >= 0x80) {
                    sawUtf8 = true;
                } else if (b < 32 || b > 126) {
                    return -1; // qtextSMTP = %d32-33 / %d35-91 / %d93-126
                }
                p++;
            }
            return -1;
        }
        // Dot-string = Atom *("." Atom): no leading, trailing or doubled dot.
        boolean atomStart = true;
        while (p < end) {
            int b = in.get(p) & 0xFF;
            if (b == '.') {
                if (atomStart) {
                    return -1;
                }
                atomStart = true;
            } else if (b >= 0x80) {
                sawUtf8 = true;
                atomStart = false;
            } else if (ATEXT[b]) {
                atomStart = false;
            } else {
                break;
            }
            p++;
        }
        return atomStart ? -1 : p;
    }

    /**
     * RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]; labels of at most 63
     * octets (RFC 1035 2.3.4). With {@code utf8}, octets >= 0x80 are accepted as parts of U-labels (RFC 6531 3.3).
     * Returns the end or -1.
     */
    private int domain(ByteBuffer in, int p, int end, boolean utf8) {
        int start = p;
        int labelStart = p;
        boolean lastWasHyphen = false;
        while (p < end) {
            int b = in.get(p) & 0xFF;
            if (b == '.') {
                if (p == labelStart || lastWasHyphen) {
                    return -1;
                }
                labelStart = p + 1;
                p++;
                continue;
            }
            if (b == '-') {
                if (p == labelStart) {
                    return -1;
                }
                lastWasHyphen = true;
            } else if (b >= 0x80 && utf8) {
                sawUtf8 = true;
                lastWasHyphen = false;
            } else if (isLetDig(b)) {
                lastWasHyphen = false;
            } else {
                break;
            }
            if (p - labelStart >= MAX_LABEL) {
                return -1;
            }
            p++;
        }
        if (p == start || p == labelStart || lastWasHyphen || p - start > MAX_DOMAIN) {
            return -1;
        }
        return p;
    }

    /**
     * RFC 5321 4.1.3 address-literal: {@code [IPv4]}, {@code [IPv6:...]} or {@code [tag:dcontent]}.
     * Returns the index after {@code ]} or -1.
     */
    private static int addressLiteral(ByteBuffer in, int p, int end) {
        int close = -1;
        for (int i = p + 1; i < end && i - p <= MAX_DOMAIN; i++) {
            if (in.get(i) == ']') {
                close = i;
                break;
            }
        }
        if (close < 0) {
            return -1;
        }
        int from = p + 1;
        if (close > from && isDigit(in.get(from))) {
            return ipv4(in, from, close) == close ? close + 1 : -1;
        }
        int colon = -1;
        for (int i = from; i < close; i++) {
            if (in.get(i) == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= from) {
            return -1;
        }
        // Standardized-tag = Ldh-str; "IPv6" is the one registered tag.
        if (colon - from == 4 && (in.get(from) | 0x20) == 'i' && (in.get(from + 1) | 0x20) == 'p'
                && (in.get(from + 2) | 0x20) == 'v' && in.get(from + 3) == '6') {
            return ipv6(in, colon + 1, close) ? close + 1 : -1;
        }
        for (int i = from; i < colon; i++) {
            int b = in.get(i) & 0xFF;
            if (!isLetDig(b) && !(b == '-' && i > from && i < colon - 1)) {
                return -1;
            }
        }
        if (colon + 1 == close) {
            return -1;
        }
        for (int i = colon + 1; i < close; i++) {
            int b = in.get(i) & 0xFF;
            // dcontent = %d33-90 / %d94-126
            if (b < 33 || b > 126 || (b >= 91 && b <= 93)) {
                return -1;
            }
        }
        return close + 1;
    }

    /** Four decimal octets 0-255 separated by dots, starting at p; returns the end or -1. */
    private static int ipv4(ByteBuffer in, int p, int end) {
        for (int part = 0; part < 4; part++) {
            if (part > 0) {
                if (p >= end || in.get(p) != '.') {
                    return -1;
                }
                p++;
            }
            int digitsStart = p;
            int value = 0;
            while (p < end && isDigit(in.get(p)) && p - digitsStart < 3) {
                value = value * 10 + in.get(p) - '0';
                p++;
            }
            if (p == digitsStart || value > 255) {
                return -1;
            }
        }
        return p;
    }

    /** RFC 5321 4.1.3 IPv6-addr (full, compressed, and with a trailing IPv4). */
    private static boolean ipv6(ByteBuffer in, int p, int end) {
        int groups = 0;
        boolean compressed = false;
        if (end - p >= 2 && in.get(p) == ':' && in.get(p + 1) == ':') {
            compressed = true;
            p += 2;
            if (p == end) {
                return true;
            }
        } else if (p < end && in.get(p) == ':') {
            return false;
        }
        while (p < end) {
            int hexStart = p;
            while (p < end && p - hexStart < 4 && isHex(in.get(p))) {
                p++;
            }
            if (p < end && in.get(p) == '.') {
                // A trailing IPv4 address counts as two groups.
                if (ipv4(in, hexStart, end) != end) {
                    return false;
                }
                groups += 2;
                p = end;
                break;
            }
            if (p == hexStart) {
                return false;
            }
            groups++;
            if (p == end) {
                break;
            }
            if (in.get(p) != ':') {
                return false;
            }
            p++;
            if (p < end && in.get(p) == ':') {
                if (compressed) {
                    return false;
                }
                compressed = true;
                p++;
                if (p == end) {
                    break;
                }
            } else if (p == end) {
                return false;
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

    /**
     * {@code *( SP esmtp-param )} (RFC 5321 4.1.2): keyword ["=" value]. Unknown or unadvertised keywords give
     * {@link ParseStatus#UNKNOWN_PARAM} (4.1.1.11: 555), bad or repeated values {@link ParseStatus#BAD_PARAM_VALUE}.
     */
    private int parseParams(ByteBuffer in, int p, int end, Command out, boolean mail) {
        sawUtf8 = false;
        int seen = 0;
        while (p < end) {
            if (in.get(p) != SP) {
                return ParseStatus.BAD_PATH; // junk glued to the closing '>'
            }
            p = skipSpaces(in, p, end);
            if (p == end) {
                break;
            }
            int keyStart = p;
            // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
            while (p < end && (isLetDig(in.get(p) & 0xFF) || (p > keyStart && in.get(p) == '-'))) {
                p++;
            }
            int keyEnd = p;
            if (keyEnd == keyStart) {
                return ParseStatus.SYNTAX;
            }
            int valueStart = -1;
            int valueEnd = -1;
            if (p < end && in.get(p) == '=') {
                p++;
                valueStart = p;
                while (p < end && in.get(p) != SP) {
                    int b = in.get(p) & 0xFF;
                    // esmtp-value = 1*(%d33-60 / %d62-126), RFC 6531 adds UTF-8
                    if (b >= 0x80) {
                        sawUtf8 = true;
                    } else if (b < 33 || b > 126 || b == '=') {
                        return ParseStatus.BAD_PARAM_VALUE;
                    }
                    p++;
                }
                valueEnd = p;
                if (valueEnd == valueStart) {
                    return ParseStatus.BAD_PARAM_VALUE;
                }
            } else if (p < end && in.get(p) != SP) {
                return ParseStatus.SYNTAX;
            }
            int bit = paramBit(in, keyStart, keyEnd, mail);
            if (bit == 0) {
                return ParseStatus.UNKNOWN_PARAM;
            }
            if ((seen & bit) != 0) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            seen |= bit;
            int status = paramValue(in, bit, valueStart, valueEnd, out);
            if (status != ParseStatus.OK) {
                return status;
            }
        }
        return ParseStatus.OK;
    }

    private static int paramBit(ByteBuffer in, int from, int to, boolean mail) {
        if (mail) {
            if (equalsIgnoreCase(in, from, to, P_SIZE)) {
                return SEEN_SIZE;
            } else if (equalsIgnoreCase(in, from, to, P_BODY)) {
                return SEEN_BODY;
            } else if (equalsIgnoreCase(in, from, to, P_SMTPUTF8)) {
                return SEEN_SMTPUTF8;
            } else if (equalsIgnoreCase(in, from, to, P_RET)) {
                return SEEN_RET;
            } else if (equalsIgnoreCase(in, from, to, P_ENVID)) {
                return SEEN_ENVID;
            }
        } else if (equalsIgnoreCase(in, from, to, P_NOTIFY)) {
            return SEEN_NOTIFY;
        } else if (equalsIgnoreCase(in, from, to, P_ORCPT)) {
            return SEEN_ORCPT;
        }
        return 0;
    }

    /** Checks one parameter's value and stores it in {@code out}; {@code from < 0} means no "=value". */
    private static int paramValue(ByteBuffer in, int bit, int from, int to, Command out) {
        boolean hasValue = from >= 0;
        if (bit == SEEN_SMTPUTF8) {
            // RFC 6531 3.4: SMTPUTF8 takes no value.
            if (hasValue) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            out.smtputf8 = true;
            return ParseStatus.OK;
        }
        if (!hasValue) {
            return ParseStatus.BAD_PARAM_VALUE;
        }
        if (bit == SEEN_SIZE) {
            if (to - from > MAX_SIZE_DIGITS) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            long size = 0;
            for (int i = from; i < to; i++) {
                byte b = in.get(i);
                if (!isDigit(b)) {
                    return ParseStatus.BAD_PARAM_VALUE;
                }
                // Up to 20 digits is valid syntax (RFC 1870); a value beyond a long is simply too big.
                size = size > (Long.MAX_VALUE - 9) / 10 ? Long.MAX_VALUE : size * 10 + (b - '0');
            }
            out.size = size;
        } else if (bit == SEEN_BODY) {
            // BINARYMIME (RFC 3030 3) is not advertised, so it is refused like any other unknown value.
            if (equalsIgnoreCase(in, from, to, V_7BIT)) {
                out.body = Envelope.BODY_7BIT;
            } else if (equalsIgnoreCase(in, from, to, V_8BITMIME)) {
                out.body = Envelope.BODY_8BITMIME;
            } else {
                return ParseStatus.BAD_PARAM_VALUE;
            }
        } else if (bit == SEEN_RET) {
            if (equalsIgnoreCase(in, from, to, V_FULL)) {
                out.ret = Envelope.RET_FULL;
            } else if (equalsIgnoreCase(in, from, to, V_HDRS)) {
                out.ret = Envelope.RET_HDRS;
            } else {
                return ParseStatus.BAD_PARAM_VALUE;
            }
        } else if (bit == SEEN_ENVID) {
            if (to - from > MAX_ENVID || !xtext(in, from, to, false)) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            out.envidStart = from;
            out.envidEnd = to;
        } else if (bit == SEEN_NOTIFY) {
            int flags = notifyFlags(in, from, to);
            if (flags == 0) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            out.notify = flags;
        } else {
            if (to - from > MAX_ORCPT || !orcpt(in, from, to)) {
                return ParseStatus.BAD_PARAM_VALUE;
            }
            out.orcptStart = from;
            out.orcptEnd = to;
        }
        return ParseStatus.OK;
    }

    /** RFC 3461 4.1: "NEVER" alone, or a comma list of SUCCESS, FAILURE, DELAY. Returns the bits, 0 if invalid. */
    private static int notifyFlags(ByteBuffer in, int from, int to) {
        if (equalsIgnoreCase(in, from, to, V_NEVER)) {
            return Envelope.NOTIFY_NEVER;
        }
        int flags = 0;
        int p = from;
        while (p <= to) {
            int comma = p;
            while (comma < to && in.get(comma) != ',') {
                comma++;
            }
            if (equalsIgnoreCase(in, p, comma, V_SUCCESS)) {
                flags |= Envelope.NOTIFY_SUCCESS;
            } else if (equalsIgnoreCase(in, p, comma, V_FAILURE)) {
                flags |= Envelope.NOTIFY_FAILURE;
            } else if (equalsIgnoreCase(in, p, comma, V_DELAY)) {
                flags |= Envelope.NOTIFY_DELAY;
            } else {
                return 0; // empty element, NEVER in a list, or an unknown word
            }
            p = comma + 1;
        }
        return flags;
    }

    /** RFC 3461 4.2: {@code addr-type ";" xtext}; RFC 6533 allows UTF-8 in the "utf-8" address type. */
    private static boolean orcpt(ByteBuffer in, int from, int to) {
        int semi = from;
        while (semi < to && in.get(semi) != ';') {
            int b = in.get(semi) & 0xFF;
            if (!isLetDig(b) && b != '-') {
                return false;
            }
            semi++;
        }
        if (semi == from || semi >= to - 1) {
            return false;
        }
        boolean utf8Type = equalsIgnoreCase(in, from, semi, V_UTF8);
        return xtext(in, semi + 1, to, utf8Type);
    }

    /**
     * RFC 3461 4: xtext = *( xchar / hexchar ), xchar = "!".."~" except "+" and "=", hexchar = "+" 2HEXDIG. Lower
     * case hex digits are accepted too (harmless leniency). With {@code utf8}, well-formed UTF-8 is allowed.
     */
    private static boolean xtext(ByteBuffer in, int from, int to, boolean utf8) {
        for (int p = from; p < to; p++) {
            int b = in.get(p) & 0xFF;
            if (b == '+') {
                if (p + 2 >= to) {
                    return false;
                }
                if (!isHex(in.get(p + 1)) || !isHex(in.get(p + 2))) {
                    return false;
                }
                p += 2;
            } else if (b >= 0x80) {
                if (!utf8) {
                    return false;
                }
            } else if (b < 33 || b > 126 || b == '=') {
                return false;
            }
        }
        return !utf8 || validUtf8(in, from, to);
    }

    /** Well-formed UTF-8 per RFC 3629 4 (no overlongs, no surrogates, at most U+10FFFF). */
    static boolean validUtf8(ByteBuffer in, int from, int to) {
        int p = from;
        while (p < to) {
            int b = in.get(p) & 0xFF;
            if (b < 0x80) {
                p++;
                continue;
            }
            int n;
            int min;
            int max;
            if (b >= 0xC2 && b <= 0xDF) {
                n = 1;
                min = 0x80;
                max = 0xBF;
            } else if (b >= 0xE0 && b <= 0xEF) {
                n = 2;
                min = b == 0xE0 ? 0xA0 : 0x80;
                max = b == 0xED ? 0x9F : 0xBF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                n = 3;
                min = b == 0xF0 ? 0x90 : 0x80;
                max = b == 0xF4 ? 0x8F : 0xBF;
            } else {
                return false;
            }
            if (p + n >= to) {
                return false;
            }
            int second = in.get(p + 1) & 0xFF;
            if (second < min || second > max) {
                return false;
            }
            for (int k = 2; k <= n; k++) {
                int c = in.get(p + k) & 0xFF;
                if (c < 0x80 || c > 0xBF) {
                    return false;
                }
            }
            p += n + 1;
        }
        return true;
    }

    private static boolean blank(ByteBuffer in, int p, int end) {
        return skipSpaces(in, p, end) == end;
    }

    private static int skipSpaces(ByteBuffer in, int p, int end) {
        while (p < end && in.get(p) == SP) {
            p++;
        }
        return p;
    }

    /** True if {@code in[p..]} starts with {@code lower} ignoring ASCII case ({@code lower} is lower case). */
    private static boolean matchesIgnoreCase(ByteBuffer in, int p, int end, byte[] lower) {
        if (end - p < lower.length) {
            return false;
        }
        for (int k = 0; k < lower.length; k++) {
            byte b = in.get(p + k);
            byte c = lower[k];
            if (b != c && !(c >= 'a' && c <= 'z' && (b | 0x20) == c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean equalsIgnoreCase(ByteBuffer in, int from, int to, byte[] lower) {
        return to - from == lower.length && matchesIgnoreCase(in, from, to, lower);
    }

    /** Four octets at {@code p} as a big-endian int, letters folded to lower case (exact for ASCII letters). */
    private static int packed(ByteBuffer in, int p) {
        int w = in.getInt(p);
        if (in.order() == ByteOrder.LITTLE_ENDIAN) {
            w = Integer.reverseBytes(w);
        }
        return w | 0x20202020;
    }

    private static int word(char a, char b, char c, char d) {
        return (a << 24) | (b << 16) | (c << 8) | d;
    }

    private static byte[] lower(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean isHex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f');
    }

    private static boolean isLetDig(int b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
    }
}

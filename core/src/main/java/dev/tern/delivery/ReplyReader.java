package dev.tern.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads SMTP replies (RFC 5321 4.2: {@code NNN-text} continuation lines, {@code NNN text} last line) from a peer,
 * bounded in line length and line count so a hostile peer cannot exhaust memory. Parses RFC 3463 enhanced codes
 * (RFC 2034: the first token of the text, whose class matches the reply class). A one-line reply seen recently is
 * answered with the reply already parsed for it: a next hop says the same "250 2.1.0 Ok" for every transaction, and
 * a relay reads several such replies per message.
 *
 * <p>Threading: owned by one outbound connection.
 */
final class ReplyReader {
    static final int MAX_LINE = 4096;
    static final int MAX_LINES = 200;
    private static final int RECENT = 8;

    private final InputStream in;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int lim;
    private final byte[] line = new byte[MAX_LINE + 1];
    /**
     * Recent one-line replies beside their raw lines (without CRLF). A reply seen again is kept; one seen once (a
     * queue id makes every end-of-data reply unique) is the first to be replaced.
     */
    private final byte[][] recentLines = new byte[RECENT][];
    private final SmtpReply[] recentReplies = new SmtpReply[RECENT];
    private final boolean[] recentHit = new boolean[RECENT];
    private int nextRecent;

    ReplyReader(InputStream in) {
        this.in = in;
    }

    /** Reads one complete reply; throws {@link IOException} on EOF, timeout or a malformed reply. */
    SmtpReply read() throws IOException {
        List<String> texts = null;
        int code = -1;
        for (int n = 0; n < MAX_LINES; n++) {
            int len = readLine();
            if (len < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) {
                throw new IOException("malformed reply line: " + printable(len));
            }
            if (line[0] < '2' || line[0] > '5') {
                // RFC 5321 4.2.1: SMTP replies are 2yz-5yz. Anything else is a broken peer, not a 5xx to bounce on:
                // the IOException makes it a temporary failure of the connection.
                throw new IOException("reply code outside 2xx-5xx: " + printable(len));
            }
            int lineCode = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (code >= 0 && lineCode != code) {
                throw new IOException("reply code changed within a multi-line reply: " + printable(len));
            }
            code = lineCode;
            boolean more = len > 3 && line[3] == '-';
            if (len > 3 && line[3] != '-' && line[3] != ' ') {
                throw new IOException("malformed reply line: " + printable(len));
            }
            if (n == 0 && !more) {
                SmtpReply seen = recent(len);
                if (seen != null) {
                    return seen;
                }
            }
            if (texts == null) {
                texts = new ArrayList<>(2);
            }
            texts.add(len > 4 ? new String(line, 4, len - 4, StandardCharsets.UTF_8) : "");
            if (!more) {
                SmtpReply r = new SmtpReply(code, enhanced(code, texts.getFirst()), texts);
                if (n == 0) {
                    remember(len, r);
                }
                return r;
            }
        }
        throw new IOException("reply longer than " + MAX_LINES + " lines");
    }

    private SmtpReply recent(int len) {
        for (int i = 0; i < RECENT; i++) {
            byte[] l = recentLines[i];
            if (l != null && Arrays.equals(l, 0, l.length, line, 0, len)) {
                recentHit[i] = true;
                return recentReplies[i];
            }
        }
        return null;
    }

    private void remember(int len, SmtpReply r) {
        int slot = nextRecent;
        for (int i = 0; i < RECENT; i++) {
            int candidate = (nextRecent + i) % RECENT;
            if (!recentHit[candidate]) {
                slot = candidate;
                break;
            }
        }
        recentLines[slot] = Arrays.copyOf(line, len);
        recentReplies[slot] = r;
        recentHit[slot] = false;
        nextRecent = (slot + 1) % RECENT;
    }

    /** Reads one line without its terminator into {@link #line}; tolerates a bare LF from the peer. */
    private int readLine() throws IOException {
        int len = 0;
        while (true) {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    throw new IOException("connection closed by peer");
                }
            }
            byte b = buf[pos++];
            if (b == '\n') {
                if (len > 0 && line[len - 1] == '\r') {
                    len--;
                }
                return len;
            }
            // A line holds up to MAX_LINE bytes, then the CR of its CRLF (dropped at the LF).
            if (len > MAX_LINE || (len == MAX_LINE && b != '\r')) {
                throw new IOException("reply line longer than " + MAX_LINE + " bytes");
            }
            line[len++] = b;
        }
    }

    /** Whether bytes are already buffered (the peer sent more than we asked for). */
    boolean hasBuffered() {
        return pos < lim;
    }

    /** Whether the peer has sent anything not read yet, buffered here or waiting in the socket; never blocks. */
    boolean hasPending() throws IOException {
        return pos < lim || in.available() > 0;
    }

    /**
     * The RFC 3463 status at the start of {@code text} ("class.subject.detail", the class matching the reply code's
     * first digit, subject and detail of one to three digits), or empty. Scanned in place: called for every reply.
     */
    static String enhanced(int code, String text) {
        int end = text.indexOf(' ');
        if (end < 0) {
            end = text.length();
        }
        if (end < 5 || text.charAt(0) != (char) ('0' + code / 100) || text.charAt(1) != '.') {
            return "";
        }
        int subjectEnd = digitsEnd(text, 2, end);
        if (subjectEnd == 2 || subjectEnd - 2 > 3 || subjectEnd >= end || text.charAt(subjectEnd) != '.') {
            return "";
        }
        int detailEnd = digitsEnd(text, subjectEnd + 1, end);
        if (detailEnd != end || detailEnd - subjectEnd - 1 < 1 || detailEnd - subjectEnd - 1 > 3) {
            return "";
        }
        return text.substring(0, end);
    }

    /** The index of the first non-digit in {@code text} from {@code from}, or {@code end}. */
    private static int digitsEnd(String text, int from, int end) {
        int i = from;
        while (i < end && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
            i++;
        }
        return i;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    private String printable(int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(len, 80); i++) {
            int c = line[i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        return sb.toString();
    }
}

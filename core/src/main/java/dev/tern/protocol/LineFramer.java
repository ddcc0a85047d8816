package dev.tern.protocol;

import java.nio.ByteBuffer;

/**
 * Bounded, resumable framing of SMTP command lines: strict CRLF (RFC 5321 2.3.8, 4.1.1), never a bare LF or CR.
 *
 * <p>{@link #next(ByteBuffer)} scans {@code in} from its position to its limit with absolute indexes and returns one
 * status per call:
 * <ul>
 * <li>{@link #LINE}: a complete line; {@link #lineStart()}/{@link #lineEnd()} are its absolute bounds in {@code in}
 *     without the CRLF, and {@code in.position()} is just past the CRLF.</li>
 * <li>{@link #NEED_MORE}: no complete line yet. The position is unchanged unless an over-long line is being
 *     discarded (then everything scanned so far is consumed).</li>
 * <li>{@link #TOO_LONG}: a line exceeded {@code maxLine} octets (CRLF included). It is discarded up to and including
 *     its line feed, possibly across several calls ("discard mode" consumes input as it goes and answers
 *     {@link #NEED_MORE}); the status is reported once, when the end of the line is reached.</li>
 * <li>{@link #BAD_LINE_ENDING}: the line contained a bare CR, or ended with a bare LF (the SMTP smuggling vector). It
 *     is discarded through its terminating LF and reported once.</li>
 * <li>{@link #NUL}: the line contained a NUL octet; discarded through its LF and reported once.</li>
 * </ul>
 * Any LF ends a line, so the framer stays in step with a client that sends bare LFs, yet only CRLF yields
 * {@link #LINE}.
 *
 * <p>Buffer contract: the caller reads into {@code in}, flips it, calls {@code next} until it returns
 * {@link #NEED_MORE}, then compacts {@code in} (keeping the bytes from its position) before the next read. The
 * framer remembers how far it has already scanned relative to the position, so it never rescans and never reads
 * outside [position, limit). Because the framer enters discard mode as soon as {@code maxLine} octets are seen without
 * an LF, {@code NEED_MORE} with a full buffer cannot happen as long as the buffer's capacity is at least
 * {@code maxLine}; the constructor's caller must guarantee that (a smaller buffer could deadlock the session).
 *
 * <p>Threading: not thread-safe; one instance per session. No allocation after construction.
 */
public final class LineFramer {
    /** A complete CRLF-terminated line is available. */
    public static final int LINE = 100;
    /** More input is needed. */
    public static final int NEED_MORE = 101;
    /** An over-long line was discarded (500 5.5.2). */
    public static final int TOO_LONG = 102;
    /** A line with a bare LF or bare CR was discarded (500 5.5.2). */
    public static final int BAD_LINE_ENDING = 103;
    /** A line with a NUL octet was discarded (500 5.5.2). */
    public static final int NUL = 104;

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private final int maxLine;
    /** Octets after the position that were already scanned (not containing an LF). */
    private int scanned;
    private boolean discarding;
    private boolean bareCr;
    private boolean nul;
    private int lineStart;
    private int lineEnd;

    /** @param maxLine the longest accepted line in octets, CRLF included; at least 3 */
    public LineFramer(int maxLine) {
        if (maxLine < 3) {
            throw new IllegalArgumentException("maxLine must be at least 3: " + maxLine);
        }
        this.maxLine = maxLine;
    }

    /** Scans for the next line; see the class comment for the statuses. Never throws on any input. */
    public int next(ByteBuffer in) {
        int pos = in.position();
        int limit = in.limit();
        if (discarding) {
            return discard(in, pos, limit);
        }
        // A line may hold at most maxLine - 1 octets before its LF; scanning stops there.
        int window = (int) Math.min(limit, (long) pos + maxLine);
        int i = pos + scanned;
        while (true) {
            i = Bytes.indexOfCrLfOrNul(in, i, window);
            if (i == window) {
                break;
            }
            byte b = in.get(i);
            if (b == LF) {
                return endOfLine(in, pos, i);
            }
            if (b == 0) {
                nul = true;
                i++;
                continue;
            }
            // A CR: CRLF ends the line, anything else makes it a bare CR (RFC 5321 2.3.8).
            if (i + 1 == limit) {
                if (i + 1 - pos >= maxLine) {
                    // Even a CRLF would make the line maxLine + 1 octets: discard now, so a full buffer never stalls.
                    discarding = true;
                    return discard(in, limit, limit);
                }
                break; // undecided until the next octet arrives
            }
            if (in.get(i + 1) != LF) {
                bareCr = true;
            }
            i++;
        }
        if (window - pos == maxLine && i == window) {
            // maxLine octets without an LF: even if an LF came next, the line would be too long.
            discarding = true;
            return discard(in, window, limit);
        }
        scanned = i - pos;
        return NEED_MORE;
    }

    /** Discard mode: consume through the next LF (then report TOO_LONG once) or everything available. */
    private int discard(ByteBuffer in, int from, int limit) {
        for (int i = from; i < limit; i++) {
            if (in.get(i) == LF) {
                in.position(i + 1);
                resetLine();
                return TOO_LONG;
            }
        }
        in.position(limit);
        scanned = 0;
        return NEED_MORE;
    }

    private int endOfLine(ByteBuffer in, int pos, int lf) {
        boolean crlf = lf > pos && in.get(lf - 1) == CR;
        int status;
        if (lf - pos + 1 > maxLine) {
            status = TOO_LONG;
        } else if (!crlf || bareCr) {
            status = BAD_LINE_ENDING;
        } else if (nul) {
            status = NUL;
        } else {
            lineStart = pos;
            lineEnd = lf - 1;
            status = LINE;
        }
        in.position(lf + 1);
        resetLine();
        return status;
    }

    private void resetLine() {
        scanned = 0;
        discarding = false;
        bareCr = false;
        nul = false;
    }

    /** Forgets any partial line (after STARTTLS, RFC 3207 4: discard buffered plaintext; or on reuse). */
    public void reset() {
        resetLine();
        lineStart = 0;
        lineEnd = 0;
    }

    /** Absolute index of the first octet of the last {@link #LINE}. */
    public int lineStart() {
        return lineStart;
    }

    /** Absolute index just past the last octet of the last {@link #LINE}, before its CRLF. */
    public int lineEnd() {
        return lineEnd;
    }

    /** True while an over-long line is being skipped. */
    public boolean discarding() {
        return discarding;
    }

    public int maxLine() {
        return maxLine;
    }

    /** A name for logs and test failure messages. */
    public static String statusName(int status) {
        return switch (status) {
            case LINE -> "LINE";
            case NEED_MORE -> "NEED_MORE";
            case TOO_LONG -> "TOO_LONG";
            case BAD_LINE_ENDING -> "BAD_LINE_ENDING";
            case NUL -> "NUL";
            default -> "STATUS_" + status;
        };
    }
}

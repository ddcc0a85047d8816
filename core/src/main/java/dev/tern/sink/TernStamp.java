package dev.tern.sink;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The {@code X-Tern-Stamp} header the load generator puts on every message and the sink checks:
 * {@code X-Tern-Stamp: t=<epoch-micros>; sha256=<hex>}, where the digest covers the body bytes after the
 * header/body blank line exactly as the sender meant them (before dot-stuffing, CRLF line endings, final CRLF
 * included). The sink recomputes the digest after dot-unstuffing: a mismatch means the path altered the body.
 *
 * <p>Stateless; safe from any thread.
 *
 * @param epochMicros when the sender created the message, microseconds since the epoch
 * @param sha256      the 32-byte digest of the body
 */
public record TernStamp(long epochMicros, byte[] sha256) {
    /** Header field name, as written. */
    public static final String HEADER = "X-Tern-Stamp";

    private static final HexFormat HEX = HexFormat.of();

    public TernStamp {
        if (sha256 == null || sha256.length != 32) {
            throw new IllegalArgumentException("sha256 must be 32 bytes");
        }
    }

    /** The complete header line, CRLF included. */
    public String headerLine() {
        return HEADER + ": t=" + epochMicros + "; sha256=" + HEX.formatHex(sha256) + "\r\n";
    }

    /** The header line as ASCII bytes. */
    public byte[] headerLineBytes() {
        return headerLine().getBytes(StandardCharsets.US_ASCII);
    }

    /** Wall-clock microseconds since the epoch (the clock both ends of a stamp use). */
    public static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    /**
     * Parses the value part of the header ({@code t=...; sha256=...}) from ASCII bytes, without allocating: the sink
     * parses every message's stamp. The order of the two fields and the spacing around them do not matter. Writes the
     * digest into {@code sha256Out} (32 bytes) and returns the time, or -1 when either field is missing or malformed
     * (then {@code sha256Out} holds garbage).
     */
    public static long parseValue(byte[] value, int from, int to, byte[] sha256Out) {
        long t = -1;
        boolean digest = false;
        for (int part = from; part <= to; ) {
            int semicolon = indexOf(value, part, to, (byte) ';');
            int end = semicolon < 0 ? to : semicolon;
            int s = skipSpace(value, part, end);
            int e = trimEnd(value, s, end);
            int eq = indexOf(value, s, e, (byte) '=');
            if (eq > s) {
                int keyEnd = trimEnd(value, s, eq);
                int v = skipSpace(value, eq + 1, e);
                if (keyEnd - s == 1 && (value[s] | 0x20) == 't') {
                    t = parseLong(value, v, e);
                    if (t == Long.MIN_VALUE) {
                        return -1;
                    }
                } else if (isSha256(value, s, keyEnd) && e - v == 64) {
                    if (!parseHex(value, v, sha256Out)) {
                        return -1;
                    }
                    digest = true;
                }
            }
            part = end + 1;
        }
        return t < 0 || !digest ? -1 : t;
    }

    private static int indexOf(byte[] bytes, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** As {@link String#trim()}: every character up to the space counts as white space. */
    private static int skipSpace(byte[] bytes, int from, int to) {
        while (from < to && (bytes[from] & 0xff) <= ' ') {
            from++;
        }
        return from;
    }

    private static int trimEnd(byte[] bytes, int from, int to) {
        while (to > from && (bytes[to - 1] & 0xff) <= ' ') {
            to--;
        }
        return to;
    }

    private static boolean isSha256(byte[] bytes, int from, int to) {
        return to - from == 6 && (bytes[from] | 0x20) == 's' && (bytes[from + 1] | 0x20) == 'h'
                && (bytes[from + 2] | 0x20) == 'a' && bytes[from + 3] == '2' && bytes[from + 4] == '5'
                && bytes[from + 5] == '6';
    }

    /** As {@link Long#parseLong(String)}; {@link Long#MIN_VALUE} when malformed or out of range. */
    private static long parseLong(byte[] bytes, int from, int to) {
        boolean negative = from < to && bytes[from] == '-';
        int i = from < to && (bytes[from] == '-' || bytes[from] == '+') ? from + 1 : from;
        if (i >= to) {
            return Long.MIN_VALUE;
        }
        long value = 0;
        for (; i < to; i++) {
            int d = bytes[i] - '0';
            if (d < 0 || d > 9 || value > (Long.MAX_VALUE - d) / 10) {
                return Long.MIN_VALUE;
            }
            value = value * 10 + d;
        }
        return negative ? -value : value;
    }

    private static boolean parseHex(byte[] bytes, int from, byte[] out) {
        for (int i = 0; i < 32; i++) {
            int hi = Character.digit(bytes[from + 2 * i], 16);
            int lo = Character.digit(bytes[from + 2 * i + 1], 16);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return true;
    }
}

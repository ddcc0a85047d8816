package dev.tern.sink;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;

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
     * Parses the value part of the header ({@code t=...; sha256=...}); the order of the two fields and the spacing
     * around them do not matter. Returns {@code null} when either field is missing or malformed.
     */
    public static TernStamp parseValue(String value) {
        long t = -1;
        byte[] digest = null;
        for (String part : value.split(";")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String v = p.substring(eq + 1).trim();
            try {
                if (key.equals("t")) {
                    t = Long.parseLong(v);
                } else if (key.equals("sha256") && v.length() == 64) {
                    digest = HEX.parseHex(v);
                }
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return t < 0 || digest == null ? null : new TernStamp(t, digest);
    }
}

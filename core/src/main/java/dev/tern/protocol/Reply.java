package dev.tern.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable SMTP reply (RFC 5321 4.2), pre-encoded at construction in its two forms: with the RFC 3463 enhanced
 * status code after the basic code (used once the client has sent EHLO, RFC 2034) and without it. Writing it is a
 * single bulk copy.
 *
 * <p>Threading: immutable and safe to share; the constants in {@link Replies} are shared by every session.
 */
public final class Reply {
    /** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets including the code and CRLF. */
    public static final int MAX_LINE = 512;

    private final int code;
    private final String enhanced;
    private final String[] lines;
    private final byte[] withEnhanced;
    private final byte[] plain;

    private Reply(int code, String enhanced, String[] lines) {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("reply code must be 2xx..5xx: " + code);
        }
        if (enhanced != null && !validEnhanced(code, enhanced)) {
            throw new IllegalArgumentException("bad enhanced code " + enhanced + " for " + code);
        }
        if (lines.length == 0) {
            throw new IllegalArgumentException("a reply has at least one line");
        }
        for (String line : lines) {
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (c < 0x20 || c > 0x7E) {
                    throw new IllegalArgumentException("reply text must be printable ASCII: " + line);
                }
            }
        }
        this.code = code;
        this.enhanced = enhanced;
        this.lines = lines.clone();
        this.withEnhanced = encode(code, enhanced, lines);
        this.plain = encode(code, null, lines);
    }

    /** A single-line reply; {@code enhanced} is e.g. {@code "5.5.1"} or null for none. */
    public static Reply of(int code, String enhanced, String text) {
        return new Reply(code, enhanced, new String[] {text});
    }

    /** A multi-line reply (RFC 5321 4.2.1): {@code code-text} lines, the last one {@code code SP text}. */
    public static Reply multiline(int code, String enhanced, String... lines) {
        return new Reply(code, enhanced, lines);
    }

    public int code() {
        return code;
    }

    /** The enhanced status code, or null. */
    public String enhanced() {
        return enhanced;
    }

    /** True for 4xx: the client should retry later. */
    public boolean transientFailure() {
        return code >= 400 && code < 500;
    }

    /** True for 5xx. */
    public boolean permanentFailure() {
        return code >= 500;
    }

    /** The encoded length in octets, CRLFs included. */
    public int length(boolean enhancedCodes) {
        return (enhancedCodes ? withEnhanced : plain).length;
    }

    /**
     * Writes the reply at {@code out}'s position. The caller guarantees {@link #length(boolean)} octets of room
     * ({@link ReplyWriter} checks); otherwise {@link java.nio.BufferOverflowException} is thrown and nothing is
     * written.
     */
    public void writeTo(ByteBuffer out, boolean enhancedCodes) {
        out.put(enhancedCodes ? withEnhanced : plain);
    }

    /** The encoded bytes (a copy; for tests). */
    public byte[] bytes(boolean enhancedCodes) {
        byte[] b = enhancedCodes ? withEnhanced : plain;
        return Arrays.copyOf(b, b.length);
    }

    @Override
    public String toString() {
        return new String(withEnhanced, StandardCharsets.US_ASCII).replace("\r\n", "\\r\\n");
    }

    private static byte[] encode(int code, String enhanced, String[] lines) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            sb.append(code).append(i == lines.length - 1 ? ' ' : '-');
            if (enhanced != null) {
                sb.append(enhanced).append(' ');
            }
            sb.append(lines[i]).append("\r\n");
            if (sb.length() > (i + 1) * MAX_LINE) {
                throw new IllegalArgumentException("reply line longer than " + MAX_LINE + " octets");
            }
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** RFC 3463 2: class "." subject "." detail, the class matching the reply's first digit. */
    private static boolean validEnhanced(int code, String e) {
        String[] parts = e.split("\\.", -1);
        if (parts.length != 3 || !parts[0].equals(Integer.toString(code / 100))) {
            return false;
        }
        for (int i = 1; i < 3; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 3 || !parts[i].chars().allMatch(Character::isDigit)) {
                return false;
            }
        }
        return true;
    }
}

package dev.tern.delivery;

import java.util.List;

/**
 * One SMTP reply from a next hop (RFC 5321 4.2), or a local stand-in for one (a connection or DNS failure), with its
 * RFC 3463 enhanced status code when the peer gave one.
 *
 * @param code     the three-digit reply code
 * @param enhanced the enhanced status code ("5.1.1"), or empty
 * @param lines    the text of each line after the code and separator (at least one, possibly empty)
 */
public record SmtpReply(int code, String enhanced, List<String> lines) {

    public SmtpReply {
        lines = List.copyOf(lines);
    }

    /** A reply made up locally: {@code enhanced} must be a valid status for {@code code}'s class. */
    public static SmtpReply local(int code, String enhanced, String text) {
        return new SmtpReply(code, enhanced, List.of(enhanced + " " + text));
    }

    /** A 2yz completion; a 3yz is intermediate and completes nothing (RFC 5321 4.2.1). */
    public boolean positive() {
        return code >= 200 && code < 300;
    }

    public boolean transientFailure() {
        return code >= 400 && code < 500;
    }

    public boolean permanentFailure() {
        return code >= 500;
    }

    /** The enhanced code, or one derived from the reply class (RFC 3463: X.0.0) when the peer sent none. */
    public String status() {
        if (!enhanced.isEmpty()) {
            return enhanced;
        }
        return (code / 100) + ".0.0";
    }

    /** One line for logs, journal details and Diagnostic-Code: control characters removed, at most 300 chars. */
    public String oneLine() {
        StringBuilder sb = new StringBuilder().append(code);
        for (String line : lines) {
            sb.append(' ');
            for (int i = 0; i < line.length() && sb.length() < 300; i++) {
                char c = line.charAt(i);
                sb.append(c < 0x20 || c == 0x7f ? '?' : c);
            }
        }
        return sb.length() > 300 ? sb.substring(0, 300) : sb.toString();
    }

    @Override
    public String toString() {
        return oneLine();
    }
}

package dev.tern.protocol;

import java.nio.ByteBuffer;

/**
 * Parses one SMTP command line (CRLF already removed by {@link LineFramer}) into a reusable {@link Command}.
 *
 * <p>Threading: not thread-safe; one instance per session. Never throws on client input; no allocation.
 */
public final class CommandParser {
    /** RFC 1870 6: SIZE adds 26 octets to the MAIL command line. */
    public static final int SIZE_ALLOWANCE = 26;
    /** RFC 3461 4: ENVID/RET add 100 octets to MAIL. */
    public static final int DSN_MAIL_ALLOWANCE = 100;
    /** RFC 3461 4: NOTIFY/ORCPT add 500 octets to RCPT. */
    public static final int DSN_RCPT_ALLOWANCE = 500;
    /** RFC 6531 3.4: SMTPUTF8 adds 10 octets. */
    public static final int UTF8_ALLOWANCE = 10;

    private final int maxCommandLine;

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
     * constant. {@code out.verb()} is set whenever the verb was recognised, even if the arguments were bad.
     */
    public int parse(ByteBuffer in, int start, int end, Command out) {
        out.clear(in, start, end);
        return ParseStatus.UNKNOWN_VERB;
    }
}

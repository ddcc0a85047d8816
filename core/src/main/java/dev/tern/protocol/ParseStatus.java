package dev.tern.protocol;

/**
 * Result codes of {@link CommandParser#parse}. Plain {@code int}s so the hot path returns without allocating; the
 * values are distinct from the {@link LineFramer} statuses so {@link Replies#forStatus(int)} can map both.
 *
 * <p>Threading: constants only.
 */
public final class ParseStatus {
    /** The command and its arguments are well formed; the {@link Command} is filled. */
    public static final int OK = 0;
    /** Not an SMTP verb (500 5.5.2). */
    public static final int UNKNOWN_VERB = 1;
    /** Bad or missing arguments for the verb (501 5.5.4). */
    public static final int SYNTAX = 2;
    /** Invalid mailbox syntax in MAIL FROM / RCPT TO (RFC 5321 4.1.2, 4.5.3.1): 501 5.1.7 / 501 5.1.3. */
    public static final int BAD_PATH = 3;
    /** A parameter this server does not support or advertise (RFC 5321 4.1.1.11: 555 5.5.4). */
    public static final int UNKNOWN_PARAM = 4;
    /** A supported parameter with a bad value, or given twice (501 5.5.4). */
    public static final int BAD_PARAM_VALUE = 5;
    /** The command line is longer than allowed for its verb (500 5.5.2). */
    public static final int LINE_TOO_LONG = 6;
    /** A non-ASCII address without the SMTPUTF8 parameter (RFC 6531 3.5: 553 5.6.7). */
    public static final int UTF8_PATH_WITHOUT_SMTPUTF8 = 7;

    private ParseStatus() {
    }

    /** A name for logs and test failure messages. */
    public static String name(int status) {
        return switch (status) {
            case OK -> "OK";
            case UNKNOWN_VERB -> "UNKNOWN_VERB";
            case SYNTAX -> "SYNTAX";
            case BAD_PATH -> "BAD_PATH";
            case UNKNOWN_PARAM -> "UNKNOWN_PARAM";
            case BAD_PARAM_VALUE -> "BAD_PARAM_VALUE";
            case LINE_TOO_LONG -> "LINE_TOO_LONG";
            case UTF8_PATH_WITHOUT_SMTPUTF8 -> "UTF8_PATH_WITHOUT_SMTPUTF8";
            default -> LineFramer.statusName(status);
        };
    }
}

package dev.tern.protocol;

/**
 * The fixed replies Tern sends, each with its RFC 3463 enhanced status code. Dynamic replies (greeting, EHLO, queue
 * id) are written by {@link ReplyWriter}. Local failures are always 4xx so that nothing is bounced for our own fault.
 *
 * <p>Threading: constants, safe to share.
 */
public final class Replies {
    public static final Reply OK = Reply.of(250, "2.0.0", "Ok");
    public static final Reply SENDER_OK = Reply.of(250, "2.1.0", "Sender ok");
    public static final Reply RCPT_OK = Reply.of(250, "2.1.5", "Recipient ok");
    public static final Reply RESET_OK = Reply.of(250, "2.0.0", "Reset ok");
    public static final Reply START_DATA = Reply.of(354, null, "End data with <CR><LF>.<CR><LF>");
    public static final Reply BYE = Reply.of(221, "2.0.0", "Bye");
    public static final Reply VRFY_CANNOT = Reply.of(252, "2.0.0",
            "Cannot VRFY user, but will accept message and attempt delivery");
    public static final Reply HELP = Reply.multiline(214, "2.0.0",
            "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP",
            "See RFC 5321");
    /** RFC 3030 2: a BDAT chunk was received (the final one is answered with the queue id). */
    public static final Reply CHUNK_OK = Reply.of(250, "2.0.0", "Chunk ok");

    public static final Reply NOT_IMPLEMENTED = Reply.of(502, "5.5.1", "Command not implemented");
    /** RFC 3207 4: the answer to STARTTLS; the handshake follows. */
    public static final Reply READY_TLS = Reply.of(220, "2.0.0", "Ready to start TLS");
    /** RFC 3207 4: TLS not available due to temporary reason (every TLS session's memory is in use). */
    public static final Reply TLS_UNAVAILABLE = Reply.of(454, "4.7.0", "TLS not available due to temporary reason");
    /** RFC 3207 4: the server requires TLS before this command. */
    public static final Reply TLS_REQUIRED = Reply.of(530, "5.7.0", "Must issue a STARTTLS command first");
    /** RFC 3207 4: a client must not start TLS twice. */
    public static final Reply TLS_ACTIVE = Reply.of(503, "5.5.1", "TLS already active");
    public static final Reply UNKNOWN_COMMAND = Reply.of(500, "5.5.2", "Command unrecognized");
    public static final Reply SYNTAX = Reply.of(501, "5.5.4", "Syntax error in parameters or arguments");
    public static final Reply BAD_SEQUENCE = Reply.of(503, "5.5.1", "Bad sequence of commands");
    public static final Reply NEED_HELO = Reply.of(503, "5.5.1", "Send HELO or EHLO first");
    public static final Reply NESTED_MAIL = Reply.of(503, "5.5.1", "Nested MAIL command");
    public static final Reply NEED_MAIL = Reply.of(503, "5.5.1", "Need MAIL command");
    public static final Reply NEED_RCPT = Reply.of(503, "5.5.1", "Need RCPT command");
    public static final Reply PARAM_NOT_IMPLEMENTED = Reply.of(504, "5.5.4", "Command parameter not implemented");
    public static final Reply LINE_TOO_LONG = Reply.of(500, "5.5.2", "Line too long");
    public static final Reply BAD_LINE_ENDING = Reply.of(500, "5.5.2",
            "Bad line ending: bare <LF> or <CR> not allowed, use <CR><LF>");
    public static final Reply NUL = Reply.of(500, "5.5.2", "NUL octet not allowed in commands");
    public static final Reply UNKNOWN_PARAM = Reply.of(555, "5.5.4", "Unsupported MAIL/RCPT parameter");
    public static final Reply BAD_PARAM_VALUE = Reply.of(501, "5.5.4", "Invalid parameter value");
    public static final Reply BAD_SENDER = Reply.of(501, "5.1.7", "Bad sender address syntax");
    public static final Reply BAD_RCPT = Reply.of(501, "5.1.3", "Bad recipient address syntax");
    /** RFC 6531 3.5, 3.7.4.1: a non-ASCII address without SMTPUTF8. */
    public static final Reply UTF8_NOT_PERMITTED = Reply.of(553, "5.6.7",
            "Non-ASCII address requires the SMTPUTF8 parameter");

    public static final Reply TOO_MANY_RCPTS = Reply.of(452, "4.5.3", "Too many recipients");
    public static final Reply RELAY_DENIED = Reply.of(554, "5.7.1", "Relay access denied");
    public static final Reply SIZE_EXCEEDED = Reply.of(552, "5.3.4", "Message size exceeds fixed limit");
    public static final Reply MSG_BAD_LINE_ENDING = Reply.of(550, "5.6.0",
            "Message content rejected: bare <LF> or <CR> in content, use <CR><LF>");
    /**
     * RFC 5321 4.5.3.1.6 limits a content line to 1000 octets. 550 5.6.0 rather than 500 5.5.2: the DATA command was
     * accepted and it is the message content that is refused, which RFC 3463 classes as a media error (X.6.0); a 500
     * would tell the client the command itself was not understood.
     */
    public static final Reply DATA_LINE_TOO_LONG = Reply.of(550, "5.6.0",
            "Message content rejected: line too long (RFC 5321 4.5.3.1.6)");
    public static final Reply NO_VALID_RCPTS = Reply.of(554, "5.5.1", "No valid recipients");
    /** RFC 5321 4.3.1 (554 at greeting) and Postfix's "pregreet" test: the client talked before our 220. */
    public static final Reply EARLY_TALKER = Reply.of(554, "5.5.1", "Protocol error: client talked before greeting");

    public static final Reply LOCAL_ERROR = Reply.of(451, "4.3.0", "Local error in processing, try again later");
    public static final Reply INSUFFICIENT_STORAGE = Reply.of(452, "4.3.1", "Insufficient system storage");
    public static final Reply SHUTDOWN = Reply.of(421, "4.3.2", "Service shutting down, closing connection");
    public static final Reply TIMEOUT = Reply.of(421, "4.4.2", "Timeout exceeded, closing connection");
    public static final Reply TOO_MANY_ERRORS = Reply.of(421, "4.7.0", "Too many errors, closing connection");
    public static final Reply TOO_MANY_CONNECTIONS = Reply.of(421, "4.7.0", "Too many connections, try again later");

    private Replies() {
    }

    /**
     * The reply for a non-OK {@link ParseStatus} or {@link LineFramer} status. {@link ParseStatus#BAD_PATH} maps to
     * the sender variant; use {@link #forStatus(int, Verb)} to distinguish MAIL from RCPT. Returns
     * {@link #LOCAL_ERROR} for statuses that need no reply ({@code OK}, {@code LINE}, {@code NEED_MORE}).
     */
    public static Reply forStatus(int status) {
        return forStatus(status, Verb.MAIL);
    }

    /** As {@link #forStatus(int)}, answering {@link ParseStatus#BAD_PATH} for RCPT with {@link #BAD_RCPT}. */
    public static Reply forStatus(int status, Verb verb) {
        return switch (status) {
            case ParseStatus.UNKNOWN_VERB -> UNKNOWN_COMMAND;
            case ParseStatus.SYNTAX -> SYNTAX;
            case ParseStatus.BAD_PATH -> verb == Verb.RCPT ? BAD_RCPT : BAD_SENDER;
            case ParseStatus.UNKNOWN_PARAM -> UNKNOWN_PARAM;
            case ParseStatus.BAD_PARAM_VALUE -> BAD_PARAM_VALUE;
            case ParseStatus.LINE_TOO_LONG, LineFramer.TOO_LONG -> LINE_TOO_LONG;
            case ParseStatus.UTF8_PATH_WITHOUT_SMTPUTF8 -> UTF8_NOT_PERMITTED;
            case LineFramer.BAD_LINE_ENDING -> BAD_LINE_ENDING;
            case LineFramer.NUL -> NUL;
            default -> LOCAL_ERROR;
        };
    }
}

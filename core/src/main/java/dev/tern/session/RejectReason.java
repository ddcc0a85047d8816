package dev.tern.session;

/** Why the server refused a connection, a command, a recipient or a message. Counted in {@link SessionStats}. */
public enum RejectReason {
    /** The total connection limit was reached (421 4.7.0). */
    TOO_MANY_CONNECTIONS,
    /** The client address reached its own connection limit (421 4.7.0). */
    TOO_MANY_CONNECTIONS_FROM_CLIENT,
    /** Input before the greeting (554 5.5.1). */
    EARLY_TALKER,
    /** A recipient from a client outside mynetworks (554 5.7.1). */
    RELAY_DENIED,
    /** Recipients beyond the per-message limit (452 4.5.3). */
    TOO_MANY_RECIPIENTS,
    /** A message over the size limit, declared or actual (552 5.3.4). */
    MESSAGE_TOO_BIG,
    /** Bare CR or LF in message content (550 5.6.0). */
    BAD_LINE_ENDING_IN_DATA,
    /** A line of content longer than max-data-line (550 5.6.0; RFC 5321 4.5.3.1.6). */
    LINE_TOO_LONG_IN_DATA,
    /** Unknown, malformed or out-of-sequence commands (5xx). */
    BAD_COMMAND,
    /** The session reached its error limit (421 4.7.0). */
    TOO_MANY_ERRORS,
    /** A command or data timeout (421 4.4.2). */
    TIMEOUT,
    /** A local failure: journal error or buffers exhausted (451/452 4.3.x). */
    LOCAL_ERROR
}

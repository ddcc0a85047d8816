package dev.tern.protocol;

/**
 * Why received content (DATA or BDAT) must be refused, with the reply that says so. Produced by
 * {@link ContentOutput#refusal()}; the session maps it to its own counters.
 */
public enum ContentRefusal {
    /** A bare CR or LF under {@code LineEndingPolicy.REJECT} (the SMTP smuggling family, CVE-2023-51764). */
    BAD_LINE_ENDING(Replies.MSG_BAD_LINE_ENDING),
    /** More content than the SIZE limit (RFC 1870; 552 5.3.4). */
    TOO_BIG(Replies.SIZE_EXCEEDED),
    /** A content line longer than allowed (RFC 5321 4.5.3.1.6). */
    LINE_TOO_LONG(Replies.DATA_LINE_TOO_LONG);

    private final Reply reply;

    ContentRefusal(Reply reply) {
        this.reply = reply;
    }

    public Reply reply() {
        return reply;
    }
}

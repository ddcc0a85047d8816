package dev.tern.sink;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One message the sink accepted with 250, kept for test assertions. Immutable by convention: {@link #content()} is
 * the sink's own copy and callers must not modify it.
 *
 * @param client     the sending peer
 * @param helo       the HELO/EHLO argument
 * @param mailFrom   the reverse path without angle brackets (empty for the null sender)
 * @param mailParams the ESMTP parameters of MAIL FROM as sent (may be empty)
 * @param recipients the forward paths that were answered 250, without angle brackets, in order
 * @param content    the message as received: dot-unstuffed for DATA, raw for BDAT, CRLF line endings as sent
 * @param chunked    true when it arrived by BDAT
 * @param stamp      what the {@link TernStamp} check found
 * @param queueId    the id the sink put in its 250 reply
 */
public record ReceivedMessage(InetSocketAddress client, String helo, String mailFrom, String mailParams,
                              List<String> recipients, byte[] content, boolean chunked, StampCheck stamp,
                              String queueId) {

    /** The content decoded as UTF-8, for assertions. */
    public String contentText() {
        return new String(content, StandardCharsets.UTF_8);
    }

    /** Outcome of checking a message's {@link TernStamp}. */
    public enum StampCheck {
        /** No X-Tern-Stamp header. */
        ABSENT,
        /** Header present but unparseable. */
        MALFORMED,
        /** Digest matches the body received. */
        VALID,
        /** Digest differs: the body was altered on the way. */
        MISMATCH
    }
}

package dev.tern.delivery;

import java.util.List;

/**
 * What one mail transaction to a next hop did for each recipient.
 *
 * @param replies       per recipient, in the order they were given: the RCPT reply when it was not positive, else the
 *                      reply to the end of the content (or a local stand-in when the connection failed)
 * @param serviceClosing whether the peer said 421 (RFC 5321 3.8): it and its destination need a rest
 */
record TransactionResult(List<SmtpReply> replies, boolean serviceClosing) {

    static TransactionResult all(SmtpReply reply, int recipients) {
        return new TransactionResult(java.util.Collections.nCopies(recipients, reply), reply.code() == 421);
    }
}

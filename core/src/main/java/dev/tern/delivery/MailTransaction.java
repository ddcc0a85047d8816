package dev.tern.delivery;

import dev.tern.message.EnvelopeRecord;

/**
 * One mail transaction to send to a next hop: the message's envelope, the recipients it goes to in this transaction,
 * header fields to put before the stored body (a DKIM signature, or none) and the stored body.
 *
 * @param envelope     the message's envelope
 * @param recipients   indices into the envelope's recipients
 * @param prefix       header fields added at delivery, sent before the stored body (empty: none)
 * @param storedLength the stored body's length in bytes
 * @param body         streams the stored body
 */
record MailTransaction(EnvelopeRecord envelope, int[] recipients, byte[] prefix, long storedLength, BodyReader body) {

    /** The length the peer is told about (RFC 1870 SIZE): the prefix and the stored body. */
    long length() {
        return prefix.length + storedLength;
    }
}

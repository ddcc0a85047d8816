package dev.tern.journal;

import dev.tern.message.EnvelopeRecord;
import java.util.List;

/**
 * A snapshot of one message still in the queue.
 *
 * @param envelope          the decoded envelope
 * @param bodyLength        stored body bytes (trace header included)
 * @param recipientStates   per recipient (same order as the envelope): null while never attempted, else the latest
 *                          outcome kind
 * @param attempts          delivery attempts recorded so far
 * @param nextAttemptMillis earliest next attempt (0: now)
 * @param lastDetail        the latest outcome's detail, or empty
 */
public record QueuedMessage(EnvelopeRecord envelope, long bodyLength, List<OutcomeKind> recipientStates,
                            int attempts, long nextAttemptMillis, String lastDetail) {

    public long queueId() {
        return envelope.queueId();
    }
}

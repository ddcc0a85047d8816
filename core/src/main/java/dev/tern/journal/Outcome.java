package dev.tern.journal;

/**
 * What happened to one recipient of one message on one delivery attempt. Journaled so that a restart rebuilds the
 * queue from the journal alone.
 *
 * @param queueId           the message
 * @param recipientIndex    index into the envelope's recipients
 * @param kind              the outcome
 * @param atMillis          when it happened
 * @param nextAttemptMillis for {@link OutcomeKind#DEFERRED}: when to try again; otherwise 0
 * @param detail            the remote reply or local reason, for logs, bounces and {@code tern queue show}
 */
public record Outcome(long queueId, int recipientIndex, OutcomeKind kind, long atMillis, long nextAttemptMillis,
                      String detail) {
}

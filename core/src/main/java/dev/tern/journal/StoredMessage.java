package dev.tern.journal;

import dev.tern.message.EnvelopeRecord;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;

/**
 * The journal's in-memory view of one pending message: its decoded envelope, where its body lies in which cycle
 * file, and its recipients' delivery state. Mutated only by {@link JournalIndex} under its lock.
 */
final class StoredMessage {
    final long queueId;
    final EnvelopeRecord envelope;
    /** The envelope exactly as journaled; copied forward verbatim when the cycle is compacted. */
    final byte[] envelopeBytes;
    final OutcomeKind[] states;
    int cycle;
    Path file;
    long bodyOffset;
    long bodyLength;
    /** Bytes of the message record (envelope + body): what its cycle would free once the message is final. */
    long recordBytes;
    int attempts;
    long nextAttemptMillis;
    String lastDetail = "";

    StoredMessage(EnvelopeRecord envelope, byte[] envelopeBytes) {
        this.queueId = envelope.queueId();
        this.envelope = envelope;
        this.envelopeBytes = envelopeBytes;
        this.states = new OutcomeKind[envelope.recipients().size()];
    }

    /** Pending while some recipient has no final outcome (never attempted counts as pending). */
    boolean isFinal() {
        for (OutcomeKind k : states) {
            if (k == null || !k.isFinal()) {
                return false;
            }
        }
        return true;
    }

    /** An immutable copy; "never attempted" recipients are null, so the list is an unmodifiable view of a copy. */
    QueuedMessage snapshot() {
        return new QueuedMessage(envelope, bodyLength, Collections.unmodifiableList(Arrays.asList(states.clone())),
                attempts, nextAttemptMillis, lastDetail);
    }
}

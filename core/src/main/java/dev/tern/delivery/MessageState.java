package dev.tern.delivery;

import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.EnvelopeRecord;
import java.util.Arrays;

/**
 * What the engine knows about one queued message: its envelope and each recipient's latest state. Lives from
 * admission until every recipient is final.
 *
 * <p>Threading: recipient states are read and written by several delivery workers (one per destination the message
 * goes to) and by {@code delete}; guarded by this object's monitor.
 */
final class MessageState {
    private final EnvelopeRecord envelope;
    private final long bodyLength;
    private final OutcomeKind[] states;
    private volatile byte[] signature;

    MessageState(QueuedMessage q) {
        this.envelope = q.envelope();
        this.bodyLength = q.bodyLength();
        this.states = new OutcomeKind[envelope.recipients().size()];
        for (int i = 0; i < states.length && i < q.recipientStates().size(); i++) {
            states[i] = q.recipientStates().get(i);
        }
    }

    EnvelopeRecord envelope() {
        return envelope;
    }

    long bodyLength() {
        return bodyLength;
    }

    long queueId() {
        return envelope.queueId();
    }

    /** The given recipients that are not final yet ({@code recipients} itself when none is). */
    synchronized int[] open(int[] recipients) {
        int n = 0;
        for (int i : recipients) {
            if (isOpen(i)) {
                n++;
            }
        }
        if (n == recipients.length) {
            return recipients;
        }
        int[] open = new int[n];
        n = 0;
        for (int i : recipients) {
            if (isOpen(i)) {
                open[n++] = i;
            }
        }
        return open;
    }

    /** All recipients that are not final yet. */
    synchronized int[] open() {
        int[] all = new int[states.length];
        Arrays.setAll(all, i -> i);
        return open(all);
    }

    private boolean isOpen(int recipient) {
        return states[recipient] == null || !states[recipient].isFinal();
    }

    /** Records a new state unless the recipient is already final (a delete won the race). Returns whether it did. */
    synchronized boolean settle(int recipient, OutcomeKind kind) {
        if (states[recipient] != null && states[recipient].isFinal()) {
            return false;
        }
        states[recipient] = kind;
        return true;
    }

    /** Header fields to prepend when sending (the DKIM signature), computed once; null until then. */
    byte[] signature() {
        return signature;
    }

    void signature(byte[] fields) {
        signature = fields;
    }

    synchronized boolean done() {
        for (OutcomeKind k : states) {
            if (k == null || !k.isFinal()) {
                return false;
            }
        }
        return true;
    }
}

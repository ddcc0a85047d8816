package dev.tern.journal;

import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * One caller's request to the writer thread: a message to commit, outcomes to record, or a compaction to run. The
 * caller parks in {@link #await()} until the writer {@link #complete}s it; the writer reads the caller's envelope and
 * body only in between, so ownership never really changes hands.
 *
 * <p>Threading: created and awaited by one caller thread (virtual or platform); completed by the writer thread. The
 * volatile {@code done} publishes every field the writer set before it.
 */
final class WriteRequest {
    enum Kind { MESSAGE, OUTCOMES, COMPACT }

    final Kind kind;
    final Envelope envelope;
    final MessageBody body;
    final List<Outcome> outcomes;
    private final Thread waiter = Thread.currentThread();

    /** Set by the writer: the appended message, before it is durable. */
    StoredMessage stored;
    /** Set by the writer: the cycle the record was appended to, or -1 when nothing was appended. */
    int cycle = -1;
    private Throwable failure;
    private volatile boolean done;

    private WriteRequest(Kind kind, Envelope envelope, MessageBody body, List<Outcome> outcomes) {
        this.kind = kind;
        this.envelope = envelope;
        this.body = body;
        this.outcomes = outcomes;
    }

    static WriteRequest message(Envelope envelope, MessageBody body) {
        return new WriteRequest(Kind.MESSAGE, envelope, body, null);
    }

    static WriteRequest outcomes(List<Outcome> outcomes) {
        return new WriteRequest(Kind.OUTCOMES, null, null, outcomes);
    }

    static WriteRequest compact() {
        return new WriteRequest(Kind.COMPACT, null, null, null);
    }

    boolean isDone() {
        return done;
    }

    /** Writer thread: finish the request ({@code failure} null on success) and wake the caller. */
    void complete(Throwable failure) {
        this.failure = failure;
        done = true;
        LockSupport.unpark(waiter);
    }

    /**
     * Parks until the writer is done with this request. Interrupts are remembered but do not end the wait: the writer
     * may be reading the caller's buffers, which must stay untouched until then.
     */
    void await() throws JournalException {
        boolean interrupted = false;
        while (!done) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            if (failure instanceof JournalException je) {
                throw new JournalException(je.getMessage(), je);
            }
            throw new JournalException("journal write failed: " + failure, failure);
        }
    }
}

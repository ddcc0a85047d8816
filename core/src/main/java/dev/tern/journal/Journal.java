package dev.tern.journal;

import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The durable record of everything Tern has accepted and what became of it. Hides Chronicle Queue.
 *
 * <p>Threading: every method may be called from any thread, virtual ones included. Writes are funnelled to one
 * platform writer thread (group commit); callers block until their record is durable under the configured
 * {@link Durability}. A failure to store answers {@link JournalException}: the session replies 451 4.3.0 and keeps
 * serving; the journal retries opening its store on the next write.
 */
public interface Journal extends AutoCloseable {

    /**
     * Stores an accepted message (envelope + body, the body as {@link MessageBody} holds it) and returns once it is
     * durable. The caller keeps ownership of both arguments and must not touch them until this returns.
     */
    void commit(Envelope envelope, MessageBody body) throws JournalException;

    /** Stores delivery outcomes (one or more recipients of one or more messages) and returns once durable. */
    void record(List<Outcome> outcomes) throws JournalException;

    /** The messages that still have a recipient in a non-final state, oldest first (a snapshot). */
    List<QueuedMessage> pending();

    /** One queued message by id, if it is still pending. */
    Optional<QueuedMessage> find(long queueId);

    /**
     * Registers a listener told of each newly committed message, after it is durable, on the writer thread:
     * the listener must not block (hand the message to a queue). Messages recovered at open are in {@link #pending()}.
     */
    void onCommitted(Consumer<QueuedMessage> listener);

    /**
     * Streams the stored body of a pending message to {@code consumer} in one or more pieces. Each piece is a
     * read-only buffer valid only during the callback (it may view mapped journal memory: no heap copy is made).
     */
    void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException;

    /** Counters for metrics and {@code tern queue stats}. */
    JournalStats stats();

    @Override
    void close();
}

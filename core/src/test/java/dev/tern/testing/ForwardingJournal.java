package dev.tern.testing;

import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalStats;
import dev.tern.journal.Outcome;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** A {@link Journal} that hands every call to another: tests override the calls they watch or disturb. */
public class ForwardingJournal implements Journal {
    private final Journal delegate;

    public ForwardingJournal(Journal delegate) {
        this.delegate = delegate;
    }

    @Override
    public void commit(Envelope envelope, MessageBody body) throws JournalException {
        delegate.commit(envelope, body);
    }

    @Override
    public void record(List<Outcome> outcomes) throws JournalException {
        delegate.record(outcomes);
    }

    @Override
    public List<QueuedMessage> pending() {
        return delegate.pending();
    }

    @Override
    public Optional<QueuedMessage> find(long queueId) {
        return delegate.find(queueId);
    }

    @Override
    public void onCommitted(Consumer<QueuedMessage> listener) {
        delegate.onCommitted(listener);
    }

    @Override
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        delegate.readBody(queueId, consumer);
    }

    @Override
    public JournalStats stats() {
        return delegate.stats();
    }

    @Override
    public void close() {
        delegate.close();
    }
}

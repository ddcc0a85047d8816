package dev.tern.session;

import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalStats;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An in-memory {@link Journal} for session tests: commit copies the envelope and body to the heap. It can be told to
 * fail ({@link #failCommits}) to exercise the 451 path. Thread-safe.
 */
public final class MemoryJournal implements Journal {

    /** One committed message: the decoded envelope and the exact stored body bytes. */
    public record Stored(EnvelopeRecord envelope, byte[] body) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final List<Stored> stored = new CopyOnWriteArrayList<>();
    private final List<Consumer<QueuedMessage>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicLong failures = new AtomicLong();

    /** While true, every commit throws {@link JournalException} (like a full disk). */
    public void failCommits(boolean fail) {
        failing.set(fail);
    }

    public List<Stored> stored() {
        return Collections.unmodifiableList(stored);
    }

    @Override
    public void commit(Envelope envelope, MessageBody body) throws JournalException {
        if (failing.get()) {
            failures.incrementAndGet();
            throw new JournalException("simulated journal failure");
        }
        EnvelopeRecord env = EnvelopeRecord.decode(ByteBuffer.wrap(Arrays.copyOf(envelope.array(),
                envelope.length())));
        byte[] bytes = new byte[Math.toIntExact(body.length())];
        int at = 0;
        for (ByteBuffer chunk : body.chunks()) {
            int n = chunk.remaining();
            chunk.get(chunk.position(), bytes, at, n);
            at += n;
        }
        Stored s = new Stored(env, bytes);
        stored.add(s);
        QueuedMessage q = queued(s);
        for (Consumer<QueuedMessage> l : listeners) {
            l.accept(q);
        }
    }

    private static QueuedMessage queued(Stored s) {
        List<OutcomeKind> states = new ArrayList<>(Collections.nCopies(s.envelope().recipients().size(), null));
        return new QueuedMessage(s.envelope(), s.body().length, states, 0, 0, "");
    }

    @Override
    public void record(List<Outcome> outcomes) {
        // Delivery outcomes are not part of session tests.
    }

    @Override
    public List<QueuedMessage> pending() {
        return stored.stream().map(MemoryJournal::queued).toList();
    }

    @Override
    public Optional<QueuedMessage> find(long queueId) {
        return stored.stream().filter(s -> s.envelope().queueId() == queueId).findFirst().map(MemoryJournal::queued);
    }

    @Override
    public void onCommitted(Consumer<QueuedMessage> listener) {
        listeners.add(listener);
    }

    @Override
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        Stored s = stored.stream().filter(m -> m.envelope().queueId() == queueId).findFirst()
                .orElseThrow(() -> new JournalException("no message " + queueId));
        consumer.accept(ByteBuffer.wrap(s.body()).asReadOnlyBuffer());
    }

    @Override
    public JournalStats stats() {
        return new JournalStats(stored.size(), stored.size(), failures.get(), stored.size());
    }

    @Override
    public void close() {
        // Nothing to release.
    }
}

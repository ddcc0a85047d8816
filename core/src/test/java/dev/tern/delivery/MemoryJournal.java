package dev.tern.delivery;

import dev.tern.buffer.BufferPool;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalStats;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import dev.tern.testing.TestCommits;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** An in-memory {@link Journal} for delivery tests: bodies are served in small read-only direct pieces. */
final class MemoryJournal implements Journal {
    private static final class Stored {
        final EnvelopeRecord envelope;
        final byte[] body;
        final OutcomeKind[] states;
        int attempts;
        long next;
        String detail = "";

        Stored(EnvelopeRecord envelope, byte[] body) {
            this.envelope = envelope;
            this.body = body;
            this.states = new OutcomeKind[envelope.recipients().size()];
        }

        boolean pending() {
            return Arrays.stream(states).anyMatch(k -> k == null || !k.isFinal());
        }

        QueuedMessage snapshot() {
            return new QueuedMessage(envelope, body.length, Arrays.asList(states.clone()), attempts, next, detail);
        }
    }

    private final Map<Long, Stored> messages = new LinkedHashMap<>();
    private final List<Consumer<QueuedMessage>> listeners = new CopyOnWriteArrayList<>();
    private final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
    private final List<EnvelopeRecord> committed = new CopyOnWriteArrayList<>();
    private final int pieceSize;
    private int records;
    /** While set, commits of null-sender messages (DSNs) fail as a full disk would. */
    volatile boolean refuseDsns;

    MemoryJournal(int pieceSize) {
        this.pieceSize = pieceSize;
    }

    MemoryJournal() {
        this(1000);
    }

    @Override
    public void commit(Envelope envelope, MessageBody body) throws JournalException {
        EnvelopeRecord env = envelope.decode();
        if (refuseDsns && env.nullSender()) {
            throw new JournalException("commit refused by the test");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuffer b : body.chunks()) {
            byte[] bytes = new byte[b.remaining()];
            b.duplicate().get(bytes);
            out.writeBytes(bytes);
        }
        Stored s = new Stored(env, out.toByteArray());
        QueuedMessage snapshot;
        synchronized (this) {
            messages.put(env.queueId(), s);
            snapshot = s.snapshot();
        }
        committed.add(env);
        for (Consumer<QueuedMessage> l : listeners) {
            l.accept(snapshot);
        }
    }

    @Override
    public synchronized void record(List<Outcome> list) {
        records++;
        for (Outcome o : list) {
            Stored s = messages.get(o.queueId());
            if (s != null) {
                s.states[o.recipientIndex()] = o.kind();
                s.attempts++;
                s.next = o.nextAttemptMillis();
                s.detail = o.detail();
            }
        }
        outcomes.addAll(list);
    }

    /** How many times {@link #record} was called (each is one journal write, and one wait, in the real journal). */
    synchronized int records() {
        return records;
    }

    @Override
    public synchronized List<QueuedMessage> pending() {
        return messages.values().stream().filter(Stored::pending).map(Stored::snapshot).toList();
    }

    @Override
    public synchronized Optional<QueuedMessage> find(long queueId) {
        Stored s = messages.get(queueId);
        return s == null || !s.pending() ? Optional.empty() : Optional.of(s.snapshot());
    }

    @Override
    public void onCommitted(Consumer<QueuedMessage> listener) {
        listeners.add(listener);
    }

    @Override
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        byte[] body;
        synchronized (this) {
            Stored s = messages.get(queueId);
            if (s == null) {
                throw new JournalException("no such message " + QueueId.format(queueId));
            }
            body = s.body;
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(Math.max(1, body.length)).put(body).flip();
        for (int off = 0; off < body.length; off += pieceSize) {
            consumer.accept(direct.slice(off, Math.min(pieceSize, body.length - off)).asReadOnlyBuffer());
        }
    }

    @Override
    public synchronized JournalStats stats() {
        return new JournalStats(committed.size(), 0, 0, pending().size());
    }

    @Override
    public void close() {
    }

    // ---- test helpers ----

    /** Commits a message like a session would; {@code receivedAt} lets tests age it. Returns its queue id. */
    long submit(String sender, List<String> rcpts, String content, long receivedAt, int ret, String envid,
                int notify) throws JournalException {
        return submit(sender, rcpts, content, receivedAt, ret, envid, notify, false);
    }

    /** As above, for a message that needs SMTPUTF8 (RFC 6531). */
    long submitUtf8(String sender, List<String> rcpts, String content) throws JournalException {
        return submit(sender, rcpts, content, System.currentTimeMillis(), Envelope.RET_UNSPECIFIED, "", 0, true);
    }

    private long submit(String sender, List<String> rcpts, String content, long receivedAt, int ret, String envid,
                        int notify, boolean smtputf8) throws JournalException {
        BufferPool pool = new BufferPool(256, 8, 1024);
        Envelope env = new Envelope();
        long id = QueueId.next();
        env.begin(id, receivedAt, Envelope.utf8("127.0.0.1"), Envelope.utf8("client.test"));
        ByteBuffer s = ByteBuffer.wrap(Envelope.utf8(sender));
        env.sender(s, 0, s.limit());
        ByteBuffer e = ByteBuffer.wrap(Envelope.utf8(envid));
        env.mailParameters(content.length(), Envelope.BODY_8BITMIME, smtputf8, ret, e, 0, e.limit());
        for (String r : rcpts) {
            ByteBuffer rb = ByteBuffer.wrap(Envelope.utf8(r));
            ByteBuffer orcpt = ByteBuffer.wrap(Envelope.utf8("rfc822;" + r.replace("=", "+3D")));
            env.addRecipient(rb, 0, rb.limit(), notify, orcpt, 0, orcpt.limit());
        }
        TestCommits.commit(this, env, content, pool);
        return id;
    }

    long submit(String sender, List<String> rcpts, String content) throws JournalException {
        return submit(sender, rcpts, content, System.currentTimeMillis(), Envelope.RET_UNSPECIFIED, "", 0);
    }

    List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    List<Outcome> outcomesOf(long queueId) {
        return outcomes.stream().filter(o -> o.queueId() == queueId).toList();
    }

    /** Messages committed with a null sender (DSNs). */
    List<EnvelopeRecord> bounces() {
        return committed.stream().filter(EnvelopeRecord::nullSender).toList();
    }

    synchronized byte[] body(long queueId) {
        return messages.get(queueId).body.clone();
    }

    /** Waits (bounded) until {@code condition} holds on the outcomes journaled so far. */
    boolean await(Predicate<List<Outcome>> condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (condition.test(outcomes())) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.test(outcomes());
    }

    /** Waits (bounded) until every recipient of {@code queueId} has a final outcome. */
    boolean awaitFinal(long queueId, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            synchronized (this) {
                if (!messages.get(queueId).pending()) {
                    return true;
                }
            }
            Thread.sleep(10);
        }
        return false;
    }

    synchronized List<OutcomeKind> states(long queueId) {
        return new ArrayList<>(Arrays.asList(messages.get(queueId).states));
    }
}

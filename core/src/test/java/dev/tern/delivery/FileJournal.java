package dev.tern.delivery;

import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalStats;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A file-backed {@link Journal} double that survives a kill -9 (writes reach the page cache before a call returns),
 * for the crash-recovery test until the Chronicle journal lands: one envelope file and one body file per message
 * (the envelope renamed into place last: the commit point), and an append-only outcome log.
 */
final class FileJournal implements Journal {
    private final Path dir;
    private final FileChannel log;
    private final Map<Long, EnvelopeRecord> envelopes = new TreeMap<>();
    private final Map<Long, OutcomeKind[]> states = new TreeMap<>();
    private final List<Consumer<QueuedMessage>> listeners = new CopyOnWriteArrayList<>();

    FileJournal(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".env")).toList()) {
                EnvelopeRecord env = EnvelopeRecord.decode(ByteBuffer.wrap(Files.readAllBytes(p)));
                envelopes.put(env.queueId(), env);
                states.put(env.queueId(), new OutcomeKind[env.recipients().size()]);
            }
        }
        Path logFile = dir.resolve("outcomes.log");
        if (Files.exists(logFile)) {
            for (String line : Files.readAllLines(logFile, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length >= 3 && states.containsKey(Long.parseLong(f[0]))) { // a torn last line is skipped
                    try {
                        states.get(Long.parseLong(f[0]))[Integer.parseInt(f[1])] = OutcomeKind.valueOf(f[2]);
                    } catch (IllegalArgumentException e) {
                        break;
                    }
                }
            }
        }
        log = FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
    }

    @Override
    public void commit(Envelope envelope, MessageBody body) throws JournalException {
        long id = envelope.queueId();
        try {
            try (FileChannel ch = FileChannel.open(dir.resolve(id + ".body"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (ByteBuffer b : body.chunks()) {
                    ByteBuffer d = b.duplicate();
                    while (d.hasRemaining()) {
                        ch.write(d);
                    }
                }
            }
            Path tmp = dir.resolve(id + ".tmp");
            Files.write(tmp, Arrays.copyOf(envelope.array(), envelope.length()));
            Files.move(tmp, dir.resolve(id + ".env"), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new JournalException("commit failed", e);
        }
        EnvelopeRecord env = envelope.decode();
        QueuedMessage q;
        synchronized (this) {
            envelopes.put(id, env);
            states.put(id, new OutcomeKind[env.recipients().size()]);
            q = snapshot(id);
        }
        listeners.forEach(l -> l.accept(q));
    }

    @Override
    public synchronized void record(List<Outcome> outcomes) throws JournalException {
        StringBuilder sb = new StringBuilder();
        for (Outcome o : outcomes) {
            sb.append(o.queueId()).append(' ').append(o.recipientIndex()).append(' ').append(o.kind()).append('\n');
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                log.write(b);
            }
        } catch (IOException e) {
            throw new JournalException("record failed", e);
        }
        for (Outcome o : outcomes) {
            OutcomeKind[] s = states.get(o.queueId());
            if (s != null) {
                s[o.recipientIndex()] = o.kind();
            }
        }
    }

    private QueuedMessage snapshot(long id) {
        EnvelopeRecord env = envelopes.get(id);
        long length;
        try {
            length = Files.size(dir.resolve(id + ".body"));
        } catch (IOException e) {
            length = 0;
        }
        return new QueuedMessage(env, length, Arrays.asList(states.get(id).clone()), 0, 0, "");
    }

    private boolean open(long id) {
        return Arrays.stream(states.get(id)).anyMatch(k -> k == null || !k.isFinal());
    }

    @Override
    public synchronized List<QueuedMessage> pending() {
        List<QueuedMessage> out = new ArrayList<>();
        for (long id : envelopes.keySet()) {
            if (open(id)) {
                out.add(snapshot(id));
            }
        }
        return out;
    }

    @Override
    public synchronized Optional<QueuedMessage> find(long queueId) {
        return envelopes.containsKey(queueId) && open(queueId) ? Optional.of(snapshot(queueId)) : Optional.empty();
    }

    @Override
    public void onCommitted(Consumer<QueuedMessage> listener) {
        listeners.add(listener);
    }

    @Override
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        try (FileChannel ch = FileChannel.open(dir.resolve(queueId + ".body"), StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > 0) {
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                for (int off = 0; off < size; off += 4096) {
                    consumer.accept(map.slice(off, (int) Math.min(4096, size - off)).asReadOnlyBuffer());
                }
            }
        } catch (IOException e) {
            throw new JournalException("read failed", e);
        }
    }

    @Override
    public synchronized JournalStats stats() {
        return new JournalStats(envelopes.size(), 0, 0, pending().size());
    }

    @Override
    public void close() {
        try {
            log.close();
        } catch (IOException e) {
            // closing a log that is only appended to: nothing to recover
        }
    }
}

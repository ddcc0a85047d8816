package dev.tern.bench;

import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * What the journal benchmarks share: envelopes like the relay's, concurrent commits, the baselines' file wrapping,
 * removing the scratch dir.
 */
final class JournalFixtures {
    /** The JDK baselines wrap their files at this size so long runs do not fill the disk. */
    static final long BASELINE_FILE_LIMIT = 1L << 30;

    private JournalFixtures() {
    }

    /** Past the limit, back to the start of the file: later laps rewrite pages already cached and allocated. */
    static void rewindAtLimit(FileChannel ch) throws IOException {
        if (ch.position() > BASELINE_FILE_LIMIT) {
            ch.position(0);
        }
    }

    /** Past the limit, the file is emptied: like the journal, later laps append into new pages and blocks. */
    static void truncateAtLimit(FileChannel ch) throws IOException {
        if (ch.position() > BASELINE_FILE_LIMIT) {
            ch.truncate(0);
            ch.position(0);
        }
    }

    /** A one-recipient envelope as a session builds it. */
    static Envelope envelope(long id) {
        Envelope e = new Envelope();
        e.begin(id, System.currentTimeMillis(), Envelope.utf8("192.0.2.1"), Envelope.utf8("client.example"));
        ByteBuffer sender = ByteBuffer.wrap(Envelope.utf8("sender@example.org"));
        ByteBuffer none = ByteBuffer.allocate(0);
        e.sender(sender, 0, sender.limit());
        e.mailParameters(-1, Envelope.BODY_8BITMIME, false, Envelope.RET_UNSPECIFIED, none, 0, 0);
        ByteBuffer rcpt = ByteBuffer.wrap(Envelope.utf8("rcpt@example.com"));
        e.addRecipient(rcpt, 0, rcpt.limit(), 0, none, 0, 0);
        return e;
    }

    /**
     * Commits {@code bodies[0, batch)} from {@code threads}, all at once as concurrent sessions would (so they share
     * group commits), and waits for every one; {@code pending} holds at least {@code batch} slots.
     */
    static void commitConcurrently(Journal journal, ExecutorService threads, MessageBody[] bodies, int batch,
                                   Future<?>[] pending) throws Exception {
        for (int i = 0; i < batch; i++) {
            MessageBody body = bodies[i];
            pending[i] = threads.submit(() -> {
                commitOne(journal, body);
                return null;
            });
        }
        for (int i = 0; i < batch; i++) {
            pending[i].get();
        }
    }

    /** Commits one message with {@code body} under a fresh queue id, on the calling thread. */
    static void commitOne(Journal journal, MessageBody body) throws JournalException {
        journal.commit(envelope(QueueId.next()), body);
    }

    /** Deletes {@code dir} and everything below it. */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

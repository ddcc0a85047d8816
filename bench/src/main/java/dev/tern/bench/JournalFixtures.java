package dev.tern.bench;

import dev.tern.message.Envelope;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** What the journal benchmarks share: a one-recipient envelope like the relay's, and removing the scratch dir. */
final class JournalFixtures {
    private JournalFixtures() {
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

    /** Deletes {@code dir} and everything below it. */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

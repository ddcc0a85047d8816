package dev.tern.testing;

import dev.tern.buffer.BufferPool;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import java.nio.charset.StandardCharsets;

/** Stores a test message the way a session does: its content in a sealed pooled body, released after the commit. */
public final class TestCommits {
    private TestCommits() {
    }

    public static void commit(Journal journal, Envelope envelope, String content, BufferPool pool) throws JournalException {
        MessageBody body = new MessageBody(pool);
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        body.append(bytes, 0, bytes.length);
        body.seal();
        try {
            journal.commit(envelope, body);
        } finally {
            body.release();
        }
    }
}

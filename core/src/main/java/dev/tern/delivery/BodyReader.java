package dev.tern.delivery;

import dev.tern.journal.JournalException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Streams one stored message body in pieces (normally {@code journal.readBody(id, consumer)}): each piece is a
 * read-only view valid only during the callback.
 */
@FunctionalInterface
interface BodyReader {
    void read(Consumer<ByteBuffer> consumer) throws JournalException;
}

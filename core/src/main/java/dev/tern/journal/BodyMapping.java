package dev.tern.journal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Streams a stored body straight out of the page cache: the body's byte range of the cycle file is mapped read-only
 * for the duration of the call and handed out as read-only buffers over that mapping (no heap copy). The mapping
 * belongs to a confined arena closed on return, so a buffer kept past the callback fails fast instead of reading
 * unmapped memory. Independent of Chronicle's own mappings, it also serves the offline {@link JournalReader}.
 *
 * <p>Threading: each call is self-contained; the consumer runs on the calling thread.
 */
final class BodyMapping {
    /** Pieces handed to the consumer are at most this long (a ByteBuffer is int-indexed). */
    static final long MAX_PIECE = 1L << 30;

    private BodyMapping() {
    }

    static void stream(Path file, long offset, long length, Consumer<ByteBuffer> consumer) throws IOException {
        if (length == 0) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
            long done = 0;
            while (done < length) {
                long n = Math.min(MAX_PIECE, length - done);
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, offset + done, n, arena);
                consumer.accept(seg.asByteBuffer().asReadOnlyBuffer());
                done += n;
            }
        }
    }
}

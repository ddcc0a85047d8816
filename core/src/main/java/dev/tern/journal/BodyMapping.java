package dev.tern.journal;

import dev.tern.buffer.BufferPool;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Streams a stored body straight out of the page cache, never through the heap. A small body (up to
 * {@link #SMALL_BODY} bytes, the bulk-mail case) is read with one positional read into a pooled direct buffer: mapping
 * and unmapping a few KiB per message costs more than the copy (an unmap flushes the TLB of every core). A larger body
 * is mapped read-only for the duration of the call and handed out as read-only buffers over that mapping; the mapping
 * belongs to a confined arena closed on return, so a buffer kept past the callback fails fast instead of reading
 * unmapped memory. Independent of Chronicle's own mappings, it also serves the offline {@link JournalReader}.
 *
 * <p>Threading: each call is self-contained; the consumer runs on the calling thread. The read buffers come from one
 * process-wide pool that grows on demand to {@link #READ_BUFFERS} buffers; when it is exhausted, the body is mapped.
 */
final class BodyMapping {
    /** Pieces handed to the consumer are at most this long (a ByteBuffer is int-indexed). */
    static final long MAX_PIECE = 1L << 30;

    /** Bodies up to this size are read into a pooled buffer instead of being mapped. */
    static final int SMALL_BODY = 64 << 10;
    /** At most this many small-body reads at once use a pooled buffer (4 MiB with 64 KiB buffers once all exist). */
    static final int READ_BUFFERS = 64;

    private static final BufferPool READS = new BufferPool(SMALL_BODY, 0, READ_BUFFERS);

    private BodyMapping() {
    }

    /** Streams a body of {@code file}, opening the file for this one read. */
    static void stream(Path file, long offset, long length, Consumer<ByteBuffer> consumer) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            stream(ch, file, offset, length, consumer);
        }
    }

    /** Streams a body through {@code ch}, an open channel to {@code file}, which stays open. */
    static void stream(FileChannel ch, Path file, long offset, long length, Consumer<ByteBuffer> consumer)
            throws IOException {
        if (length == 0) {
            return;
        }
        ByteBuffer buf = length <= SMALL_BODY ? READS.acquire() : null;
        if (buf != null) {
            try {
                buf.limit((int) length);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, offset + buf.position()) < 0) {
                        throw new IOException("journal file " + file + " ends inside a stored body");
                    }
                }
                buf.flip();
                consumer.accept(buf.asReadOnlyBuffer());
            } finally {
                READS.release(buf);
            }
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
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

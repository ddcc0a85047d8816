package dev.tern.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

/**
 * Checks, before Chronicle opens the journal, the first document of each of its files: the store header that every
 * Chronicle file starts with. Chronicle takes a header it cannot use as one another process is still writing, and
 * waits for it; Tern holds the journal's lock, so no one is, and the wait would end badly.
 *
 * <ul>
 *   <li>A cycle file whose header word is zeros while the file holds records (a zeroed first page: a bad sector, a
 *       torn write): Chronicle waits about 10 s, takes the file as new and writes a fresh store over it, so every
 *       record in it, acknowledged mail included, is silently gone. A file of nothing but zeros holds nothing to
 *       lose (a crash between creating the file and writing its header), so it is left to Chronicle.</li>
 *   <li>{@code metadata.cq4t} whose documents are not all complete and in place (a damaged header word sends
 *       Chronicle reading from the wrong offset): Chronicle spins on the lock it keeps in that file, beyond any
 *       sensible start-up time.</li>
 * </ul>
 * Either is damage: the journal refuses to start, naming the file and what to do. The layout of Chronicle's header
 * word and the scan for bytes that are not zero serve {@link TornTail} too.
 *
 * <p>Threading: runs on the opening thread, before the queue is built.
 */
final class JournalFileHeaders {
    private static final int CHUNK = 1 << 20;
    /** Chronicle's document header word: bit 31 "not complete", bit 30 "metadata", the rest the length. */
    static final int NOT_COMPLETE = 0x8000_0000;
    static final int META_DATA = 0x4000_0000;
    static final int LENGTH_MASK = 0x3FFF_FFFF;
    /** The marker Chronicle ends a rolled cycle file with: nothing is appended after it. */
    static final int END_OF_DATA = NOT_COMPLETE | META_DATA;
    /** The metadata documents sit at the start of the file; further on it is zeros. */
    private static final int METADATA_SCAN = 64 << 10;
    /** A store header document starts with its field name, {@code header}, in binary wire (0xb9: a field name). */
    private static final byte[] HEADER_FIELD = {(byte) 0xb9, 6, 'h', 'e', 'a', 'd', 'e', 'r'};

    private JournalFileHeaders() {
    }

    /** Why a cycle file of {@code dir} would lose its records to Chronicle, or null when none would. */
    static String cycleDamage(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SingleChronicleQueue.SUFFIX)) {
            s.forEach(files::add);
        }
        files.sort(null);
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                ByteBuffer first = read(ch, 4);
                if (first.remaining() == 4 && first.getInt(0) == 0 && lastNonZero(ch, 0, ch.size()) >= 0) {
                    return "cycle file " + f.getFileName() + " holds records but its header is zeros (Chronicle "
                            + "would take it as new and write over them)";
                }
            }
        }
        return null;
    }

    /**
     * Why {@code dir}'s metadata file, when there is one, is not a store Chronicle can open; else null. The file is a
     * header document and then one small document per value (the cycle listing, the locks), each a field name and
     * its value, up to the first zero word; every document's header word must be complete and fit the file, or
     * Chronicle reads the next one from the wrong place.
     */
    static String metadataDamage(Path dir) throws IOException {
        Path meta = dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE);
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.READ)) {
            b = read(ch, (int) Math.min(ch.size(), METADATA_SCAN));
        } catch (NoSuchFileException e) {
            return null; // Chronicle creates it
        }
        if (!b.hasRemaining()) {
            return null; // created, never written: Chronicle writes it
        }
        if (b.limit() < 4 + HEADER_FIELD.length) {
            return meta.getFileName() + " is cut short (" + b.limit() + " bytes; Chronicle would stall on it)";
        }
        int pos = 0;
        for (int doc = 0; pos + 4 <= b.limit(); doc++) {
            int word = b.getInt(pos);
            if (word == 0 && doc > 0) {
                return null; // the end of the documents
            }
            int length = word & LENGTH_MASK;
            boolean header = doc == 0;
            boolean complete = (word & NOT_COMPLETE) == 0 && ((word & META_DATA) != 0) == header
                    && length > (header ? HEADER_FIELD.length : 2) && pos + 4L + length <= b.limit();
            if (!complete || !startsWithField(b, pos + 4, header)) {
                return meta.getFileName() + (header ? " does not start with a complete store header"
                        : " has a broken document at offset " + pos) + " (Chronicle would stall on it)";
            }
            pos += 4 + length;
        }
        return null;
    }

    /** The store header's {@code header} field, or any field name (an entry's), starts at {@code at}. */
    private static boolean startsWithField(ByteBuffer b, int at, boolean header) {
        if (!header) {
            return b.get(at) == HEADER_FIELD[0];
        }
        for (int i = 0; i < HEADER_FIELD.length; i++) {
            if (b.get(at + i) != HEADER_FIELD[i]) {
                return false;
            }
        }
        return true;
    }

    /** Up to {@code n} bytes from the start of the file (fewer only at its end), little-endian, flipped. */
    private static ByteBuffer read(FileChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // a local file reads short only at its end
        }
        return b.flip();
    }

    /**
     * The offset of the last byte in [{@code from}, {@code to}) that is not zero, or {@code from - 1} (Chronicle's
     * files are sparse: their holes read fast as zeros).
     */
    static long lastNonZero(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(CHUNK);
        long last = from - 1;
        for (long at = from; at < to; ) {
            int n = ch.read(b.clear().limit((int) Math.min(CHUNK, to - at)), at);
            if (n <= 0) {
                break;
            }
            int inChunk = lastNonZero(b, n);
            if (inChunk >= 0) {
                last = at + inChunk;
            }
            at += n;
        }
        return last;
    }

    /** The index of the last byte of {@code b}'s first {@code n} that is not zero, or -1. */
    private static int lastNonZero(ByteBuffer b, int n) {
        for (int i = n - 1; i >= (n & ~7); i--) {
            if (b.get(i) != 0) {
                return i;
            }
        }
        for (int i = (n & ~7) - 8; i >= 0; i -= 8) {
            if (b.getLong(i) != 0) {
                for (int j = i + 7; ; j--) {
                    if (b.get(j) != 0) {
                        return j;
                    }
                }
            }
        }
        return -1;
    }
}

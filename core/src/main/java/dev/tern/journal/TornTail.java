package dev.tern.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clears what a write cut short left after the journal's last complete document, before the writer appends again.
 *
 * <p>Chronicle marks a document's header word "not complete" while it writes the document and completes the word last.
 * A process killed in between (or a disk that kept part of a write) leaves that header, and bytes of the unfinished
 * document, after the last complete one. Replay never reads them, so nothing they held was acknowledged. Left alone,
 * Chronicle's appender writes its next document over the header with a warning and a stack trace ("Incomplete header
 * found"), and any old bytes past that document stay where a later header may be read. Tern holds the journal's lock,
 * so no other writer exists: the bytes are zeroed (and synced) at open, and one warning says where and how many.
 *
 * <p>Complete metadata documents after the last record (an index array Chronicle placed before a record it never
 * finished) are kept, and so is a file Chronicle has ended (rolled). Threading: runs on the opening thread, after
 * replay, before the writer starts.
 */
final class TornTail {
    private static final Logger LOG = LoggerFactory.getLogger(TornTail.class);

    private TornTail() {
    }

    /**
     * Zeroes every byte after the last complete document of {@code dir}'s newest cycle file. {@code lastFile} and
     * {@code lastEnd} say where replay's last record ended (null and -1 when it read none: the walk then starts at
     * the file's start). A document cut short spans at most {@code maxDocumentBytes}; nothing beyond is looked at.
     * Returns the number of bytes cleared.
     */
    static long clear(Path dir, Path lastFile, long lastEnd, long maxDocumentBytes) throws IOException {
        Path newest = newestCycleFile(dir);
        if (newest == null) {
            return 0;
        }
        boolean sameFile = lastFile != null && newest.getFileName().equals(lastFile.getFileName());
        long from = sameFile ? (lastEnd + 3) & ~3L : 0; // Chronicle starts headers on 4-byte bounds
        try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long end = endOfCompleteDocuments(ch, from, size);
            if (end < 0) {
                return 0; // a finished file: the appender starts a new one
            }
            long last = JournalFileHeaders.lastNonZero(ch, end, Math.min(size, end + 4 + maxDocumentBytes));
            if (last < end) {
                return 0;
            }
            long n = last + 1 - end;
            // Page by page, as the writer pre-zeroes: the next records are stored into these pages.
            if (JournalWriter.writeZeros(ch, end, end + n) < end + n) {
                throw new IOException("journal file " + newest.getFileName() + ": could not clear the " + n
                        + " bytes from offset " + end + " left by a write that never completed");
            }
            ch.force(false);
            LOG.warn("journal file {}: cleared {} bytes from offset {}, left by a write that never completed (nothing"
                    + " in them was acknowledged)", newest.getFileName(), n, end);
            return n;
        }
    }

    /**
     * The first offset from {@code from} that does not start a complete document fitting the file, or -1 when the
     * documents end with Chronicle's end-of-file marker.
     */
    private static long endOfCompleteDocuments(FileChannel ch, long from, long size) throws IOException {
        ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        long pos = from;
        while (pos + 4 <= size) {
            word.clear();
            while (word.hasRemaining() && ch.read(word, pos + word.position()) > 0) {
                // a local file reads short only at its end
            }
            int w = word.getInt(0);
            if (w == JournalFileHeaders.END_OF_DATA) {
                return -1;
            }
            long next = (pos + 4 + (w & JournalFileHeaders.LENGTH_MASK) + 3) & ~3L;
            if (w == 0 || (w & JournalFileHeaders.NOT_COMPLETE) != 0 || next > size) {
                return pos;
            }
            pos = next;
        }
        return pos;
    }

    /** The cycle file that sorts last (Chronicle names them by date), or null when there is none. */
    private static Path newestCycleFile(Path dir) throws IOException {
        Path newest = null;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SingleChronicleQueue.SUFFIX)) {
            for (Path f : s) {
                if (newest == null || f.getFileName().toString().compareTo(newest.getFileName().toString()) > 0) {
                    newest = f;
                }
            }
        }
        return newest;
    }
}

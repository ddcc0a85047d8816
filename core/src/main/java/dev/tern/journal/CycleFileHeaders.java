package dev.tern.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

/**
 * Checks, before Chronicle opens the journal, that no cycle file has lost its header while still holding records.
 *
 * <p>A cycle file starts with the header word of its store document. Chronicle reads a zero word as "another writer
 * is creating this file": it waits for the header (about 10 s), then takes the file as new and writes a fresh store
 * over it, so every record in it, acknowledged mail included, is silently gone. A zeroed first page (a bad sector, a
 * torn write to the file system's metadata) does exactly that. Such a file is damage: the journal refuses to start.
 * A file of nothing but zeros holds nothing to lose (a crash between creating the file and writing its header), so
 * it is left to Chronicle.
 *
 * <p>Threading: runs on the opening thread, before the queue is built.
 */
final class CycleFileHeaders {
    private static final int CHUNK = 1 << 20;

    private CycleFileHeaders() {
    }

    /** What is wrong with the cycle files of {@code dir}, or null when nothing is. */
    static String damage(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SingleChronicleQueue.SUFFIX)) {
            s.forEach(files::add);
        }
        files.sort(null);
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                if (headerWord(ch) == 0 && holdsData(ch)) {
                    return "cycle file " + f.getFileName() + " holds records but its header is zeros (Chronicle "
                            + "would take it as new and write over them)";
                }
            }
        }
        return null;
    }

    private static int headerWord(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        // A local file reads short only at its end; one shorter than a word is Chronicle's to judge.
        return ch.read(b, 0) == 4 ? b.getInt(0) : -1;
    }

    /** Whether any byte of the file is not zero (the file is sparse: its holes read fast as zeros). */
    private static boolean holdsData(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(CHUNK);
        long at = 0;
        int n;
        while ((n = ch.read(b.clear(), at)) > 0) {
            for (int i = 0; i + 8 <= n; i += 8) {
                if (b.getLong(i) != 0) {
                    return true;
                }
            }
            for (int i = n & ~7; i < n; i++) {
                if (b.get(i) != 0) {
                    return true;
                }
            }
            at += n;
        }
        return false;
    }
}

package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's idle time makes the cycle file's unwritten stretch resident in the page cache (JournalWriter's
 * warmAhead), past the pre-zeroed window, without changing what the file holds. Residency is read with
 * {@link MappedByteBuffer#isLoaded()} (mincore), which reports the page cache for a file mapping.
 */
class JournalWarmAheadTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(64 * 1024, 8, 64);

    @Test
    void idleTimeReadsTheFileAheadIntoThePageCacheAndLeavesItsContentAlone() throws Exception {
        // 16 MiB records: Chronicle maps 128 MiB blocks, so the file reaches far past the 8 MiB pre-zeroed window.
        JournalSettings settings = JournalSettings.defaults().withMaxRecordBytes(16 * MIB);
        try (ChronicleJournal j = ChronicleJournal.open(dir, settings)) {
            commit(j, 0, 100 * 1024);
            Path file = cycleFile();
            long from = 24 * MIB;
            long to = 56 * MIB;
            assertThat(Files.size(file)).isGreaterThanOrEqualTo(to);
            long deadline = System.nanoTime() + 10_000_000_000L; // the writer's first idle wake-up is after 0.5 s
            boolean loaded = resident(file, from, to);
            while (!loaded && System.nanoTime() < deadline) {
                Thread.sleep(100);
                loaded = resident(file, from, to);
            }
            assertThat(loaded).as("pages of [24, 56) MiB resident after idle time").isTrue();
            assertThat(zeros(file, from, to)).as("the warmed stretch still holds only zeros").isTrue();

            // Small records then go into the warmed pages as into any others.
            for (int i = 1; i <= 50; i++) {
                commit(j, i, 1024);
            }
            assertThat(j.stats().messagesCommitted()).isEqualTo(51);
            assertThat(j.stats().failures()).isZero();
        }
        assertThat(pool.outstanding()).isZero();
    }

    private void commit(Journal j, int i, int size) throws JournalException {
        TestMessages.commit(j, pool, TestMessages.content(i, size), "sender@example.org", "r" + i + "@example.com");
    }

    private Path cycleFile() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertThat(files).hasSize(1);
            return files.getFirst();
        }
    }

    private static boolean resident(Path file, long from, long to) throws IOException {
        return map(file, from, to).isLoaded();
    }

    private static boolean zeros(Path file, long from, long to) throws IOException {
        MappedByteBuffer m = map(file, from, to);
        while (m.remaining() >= Long.BYTES) {
            if (m.getLong() != 0) {
                return false;
            }
        }
        return true;
    }

    /** A read-only mapping of {@code [from, to)} of the file; it stays valid after its channel is closed. */
    private static MappedByteBuffer map(Path file, long from, long to) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, from, to - from);
        }
    }
}

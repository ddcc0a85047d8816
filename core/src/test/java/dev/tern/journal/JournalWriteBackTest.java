package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a group commit costs the disk: each {@code fdatasync} should write back about the pages the batch changed,
 * not whole page-cache folios. The regression this guards: pre-zeroing the journal with multi-MiB writes gave ext4
 * (Linux 6.16+) 2 MiB folios, every store through Chronicle's mapping dirtied a whole folio, and each sync of a 1 KiB
 * message wrote 0.2-0.5 MB. Read from the block device's own counter (/sys/dev/block/MAJ:MIN/stat) under the
 * journal's directory; skipped where that directory has no block device (tmpfs, overlay).
 */
class JournalWriteBackTest {
    @TempDir
    Path dir;

    /** Fields of /sys/dev/block/MAJ:MIN/stat, from 0: write requests completed, sectors (512 bytes) written. */
    private static final int WRITES_COMPLETED = 4;
    private static final int SECTORS_WRITTEN = 6;

    private final BufferPool pool = new BufferPool(4096, 64, 64);

    @Test
    void eachSyncOfASmallMessageWritesAFewPagesNotWholeFolios() throws Exception {
        Path stat = blockStatOf(dir);
        assumeTrue(stat != null, "the temporary directory is not on a block device");
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            // 48 MB first: over the file's first tens of MiB the regression did not show (its pages were already
            // cached as small folios when pre-zeroing reached them), past them it wrote 470 KB per sync.
            for (int i = 0; i < 3000; i++) {
                commit(j, i, 16 * 1024);
            }
            double bytesPerSync = perSync(j, stat, SECTORS_WRITTEN, 500) * 512;
            // Measured 14 KiB per sync (record and index pages, the ext4 journal, pre-zeroing's own pages).
            assertThat(bytesPerSync).as("bytes written to the disk per sync").isLessThan(32 * 1024);
        }
        assertThat(pool.outstanding()).isZero();
    }

    /**
     * Every {@code fstat} of the cycle file makes the next write stamp a fine-grained mtime (Linux 6.13+ multigrain
     * timestamps), and ext4 then writes the inode block in the next {@code fdatasync}: a synchronous write more per
     * commit. Counted in write requests against the same device's floor for a bare write and sync.
     */
    @Test
    void commitsDoNotWriteTheInodeEachTime() throws Exception {
        Path stat = blockStatOf(dir);
        assumeTrue(stat != null, "the temporary directory is not on a block device");
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            for (int i = 0; i < 200; i++) {
                commit(j, i, 1024);
            }
            double perSync = perSync(j, stat, WRITES_COMPLETED, 1000);
            double floor = bareWritesPerSync(stat);
            // Measured on ext4 (Linux 6.18): floor 2.0 (the data, the cache flush); the journal 3.1 (the pre-zeroed
            // pages' block allocation and its inode write add one), 4.0 while the writer asked for the file's size
            // after every batch (the inode written again for the fine-grained mtime the fstat caused).
            assertThat(perSync - floor).as("write requests per commit beyond a bare write and sync (%.2f vs %.2f)",
                    perSync, floor).isLessThan(1.5);
        }
    }

    /** Write requests per sync of 1 KiB appends to a file whose blocks are allocated and synced beforehand. */
    private double bareWritesPerSync(Path stat) throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve("bare"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long at = 0; at < (4L << 20); at += zeros.capacity()) {
                ch.write(zeros.clear(), at);
            }
            ch.force(false);
            ByteBuffer record = ByteBuffer.allocateDirect(1024);
            long before = blockStat(stat, WRITES_COMPLETED);
            for (int i = 0; i < 1000; i++) {
                ch.write(record.clear(), i * 1024L);
                ch.force(false);
            }
            return (blockStat(stat, WRITES_COMPLETED) - before) / 1000.0;
        }
    }

    /**
     * Commits {@code count} 1 KiB messages and returns how far field {@code field} of the block device's stat file
     * moved per journal sync over them; each commit must have had its own sync.
     */
    private double perSync(ChronicleJournal j, Path stat, int field, int count) throws Exception {
        long syncsBefore = j.stats().syncs();
        long before = blockStat(stat, field);
        for (int i = 0; i < count; i++) {
            commit(j, i, 1024);
        }
        long syncs = j.stats().syncs() - syncsBefore;
        long moved = blockStat(stat, field) - before;
        assertThat(syncs).isGreaterThanOrEqualTo(count);
        return (double) moved / syncs;
    }

    /** One at a time: each commit is its own batch and its own fdatasync. */
    private void commit(Journal j, int i, int size) throws JournalException {
        TestMessages.commit(j, pool, TestMessages.content(i, size), "sender@example.org", "r" + i + "@example.com");
    }

    /** The kernel's I/O counters of the block device holding {@code p}, or null when there is none. */
    private static Path blockStatOf(Path p) throws IOException {
        Object dev;
        try {
            dev = Files.getAttribute(p, "unix:dev");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        long d = ((Number) dev).longValue();
        long major = ((d >>> 8) & 0xfff) | ((d >>> 32) & ~0xfffL);
        long minor = (d & 0xff) | ((d >>> 12) & ~0xffL);
        Path stat = Path.of("/sys/dev/block/" + major + ":" + minor + "/stat");
        return major != 0 && Files.isReadable(stat) ? stat : null;
    }

    /** One field of the block device's stat file (Documentation/block/stat.rst), a count since boot. */
    private static long blockStat(Path stat, int field) throws IOException {
        return Long.parseLong(Files.readString(stat).trim().split("\\s+")[field]);
    }
}

package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
            long syncsBefore = j.stats().syncs();
            long sectorsBefore = sectorsWritten(stat);
            for (int i = 0; i < 500; i++) {
                commit(j, i, 1024);
            }
            long syncs = j.stats().syncs() - syncsBefore;
            long bytes = (sectorsWritten(stat) - sectorsBefore) * 512;
            assertThat(syncs).isGreaterThanOrEqualTo(500);
            // Measured 14 KiB per sync (record and index pages, the ext4 journal, pre-zeroing's own pages).
            assertThat(bytes / syncs).as("bytes written to the disk per sync").isLessThan(32 * 1024);
        }
        assertThat(pool.outstanding()).isZero();
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

    /** Field 7 of the block device's stat file: sectors (512 bytes) written since boot. */
    private static long sectorsWritten(Path stat) throws IOException {
        return Long.parseLong(Files.readString(stat).trim().split("\\s+")[6]);
    }
}

package dev.tern.journal;

import java.nio.file.Path;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the {@link JournalIndex} from the journal alone by replaying every document of every cycle in order.
 * Chronicle never hands a tailer a document whose header is not complete, so a record torn by a crash is simply
 * absent; a complete record Tern cannot parse is logged and skipped, never fatal.
 *
 * <p>Threading: runs on the opening thread before the writer starts (or in {@link JournalReader}).
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    /**
     * What a replay read.
     *
     * @param records        documents read
     * @param skipped        documents that could not be parsed (logged)
     * @param lastRead       index of the last document read, or -1
     * @param lastWritten    index of the last document the queue says was written, or -1
     */
    record Result(long records, long skipped, long lastRead, long lastWritten) {
        /**
         * Whether the replay stopped before the last document written: a record header damaged on disk ends what a
         * tailer can read, and every record after it, in that cycle and the later ones, is unreachable.
         */
        boolean stoppedEarly() {
            return lastWritten > lastRead;
        }
    }

    private Recovery() {
    }

    /** Replays {@code queue} into {@code index}; {@code cycles} is told each cycle file met (cycle, file). */
    static Result replay(SingleChronicleQueue queue, JournalIndex index, CycleSink cycles) {
        long records = 0;
        long skipped = 0;
        long lastRead = -1;
        int lastCycle = Integer.MIN_VALUE;
        Path file = null;
        try (ExcerptTailer tailer = queue.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    lastRead = dc.index();
                    int cycle = queue.rollCycle().toCycle(dc.index());
                    if (cycle != lastCycle) {
                        file = tailer.currentFile().toPath();
                        index.cycleSeen(cycle, file);
                        cycles.accept(cycle, file);
                        lastCycle = cycle;
                    }
                    if (!dc.isData()) {
                        continue;
                    }
                    records++;
                    try {
                        RecordCodec.replay(dc.wire().bytes(), cycle, file, index);
                    } catch (IllegalArgumentException e) {
                        skipped++;
                        LOG.warn("journal record {} skipped: {}", Long.toHexString(dc.index()), e.getMessage());
                    }
                }
            }
        }
        long lastWritten;
        try {
            lastWritten = queue.lastIndex();
        } catch (AssertionError e) { // Chronicle's own checks, when enabled, on a file cut short
            throw new IllegalStateException("cannot find the journal's last record: " + e, e);
        }
        return new Result(records, skipped, lastRead, lastWritten < 0 ? -1 : lastWritten);
    }

    /** Told of each cycle file found. */
    @FunctionalInterface
    interface CycleSink {
        void accept(int cycle, Path file);
    }
}

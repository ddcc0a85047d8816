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

    record Result(long records, long skipped) {
    }

    private Recovery() {
    }

    /** Replays {@code queue} into {@code index}; {@code cycles} is told each cycle file met (cycle, file). */
    static Result replay(SingleChronicleQueue queue, JournalIndex index, CycleSink cycles) {
        long records = 0;
        long skipped = 0;
        int lastCycle = Integer.MIN_VALUE;
        Path file = null;
        try (ExcerptTailer tailer = queue.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
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
        return new Result(records, skipped);
    }

    /** Told of each cycle file found. */
    @FunctionalInterface
    interface CycleSink {
        void accept(int cycle, Path file);
    }
}

package dev.tern.journal;

import java.nio.file.Path;
import java.text.ParseException;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the {@link JournalIndex} from the journal alone by replaying every document of every cycle in order.
 * Chronicle never hands a tailer a document whose header is not complete, so a record torn by a crash is simply
 * absent; a complete record Tern cannot parse is logged and skipped, never fatal.
 *
 * <p>A record header damaged on disk ends what a tailer can read just as a torn tail does, and hides every record
 * after it. So after the replay, {@link Result#damage()} says whether anything was written beyond the point where
 * reading stopped: a later cycle file holding a record, or a last complete document beyond the last one read (a
 * torn tail never becomes one). A later cycle file without a record is what a crash while writing its first one
 * leaves; {@link TornTail} clears it.
 *
 * <p>Threading: runs on the opening thread before the writer starts (or in {@link JournalReader}).
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    /**
     * What a replay read.
     *
     * @param records documents read
     * @param skipped documents that could not be parsed (logged)
     * @param damage  why records written after the last one read cannot be reached, or null when nothing was
     * @param lastFile the cycle file of the last document read, or null when none was
     * @param lastEnd  the file offset just past that document, or -1
     */
    record Result(long records, long skipped, String damage, Path lastFile, long lastEnd) {
    }

    private Recovery() {
    }

    /** Replays {@code queue} into {@code index}; {@code cycles} is told each cycle file met (cycle, file). */
    static Result replay(SingleChronicleQueue queue, JournalIndex index, CycleSink cycles) {
        long records = 0;
        long skipped = 0;
        int lastCycle = Integer.MIN_VALUE;
        Path file = null;
        long lastStart = -1;
        long lastEnd = -1;
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
                    lastStart = dc.wire().bytes().readPosition() - 4; // the header, as a file offset
                    lastEnd = dc.wire().bytes().readLimit();
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
        return new Result(records, skipped, damage(queue, lastCycle, file, lastStart), file, lastEnd);
    }

    /**
     * Why records written after the document that starts at {@code lastStart} of {@code file} (cycle
     * {@code lastCycle}) are unreachable, or null. With nothing read at all, the first cycle's records are.
     */
    private static String damage(SingleChronicleQueue queue, int lastCycle, Path file, long lastStart) {
        if (file != null && queue.lastCycle() > lastCycle) {
            String later = laterCycleWithRecords(queue, lastCycle);
            if (later != null) {
                return "reading stopped in cycle file " + file.getFileName() + " but " + later;
            }
            // Later files without a record: a crash while writing a cycle's first one (the rest is TornTail's).
        }
        int cycle = file != null ? lastCycle : queue.firstCycle();
        if (cycle == Integer.MAX_VALUE || cycle < 0) {
            return null; // no cycle file at all
        }
        // The store header keeps where the last complete document starts; a torn tail never got that far.
        SingleChronicleQueueStore store = queue.storeForCycle(cycle, queue.epoch(), false, null);
        if (store == null) {
            return null;
        }
        try {
            long written = store.writePosition();
            if (written > Math.max(lastStart, 0)) {
                return (file == null ? "no record can be read, though cycle " + cycle + " has records up to offset "
                        : "cycle file " + file.getFileName() + " has records up to offset ") + written
                        + (file == null ? "" : " but reading stopped at the one at " + lastStart);
            }
            return null;
        } finally {
            queue.closeStore(store);
        }
    }

    /** What says a cycle after {@code lastCycle} holds a complete record, or null when none does. */
    private static String laterCycleWithRecords(SingleChronicleQueue queue, int lastCycle) {
        try (ExcerptTailer t = queue.createTailer()) {
            for (int c = queue.nextCycle(lastCycle, TailerDirection.FORWARD); c > lastCycle;
                 c = queue.nextCycle(c, TailerDirection.FORWARD)) {
                if (t.moveToIndex(queue.rollCycle().toIndex(c, 0))) {
                    return "cycle " + c + " after it holds records";
                }
            }
            return null;
        } catch (ParseException e) {
            return "the later cycle files cannot be listed (" + e.getMessage() + ")";
        }
    }

    /** Told of each cycle file found. */
    @FunctionalInterface
    interface CycleSink {
        void accept(int cycle, Path file);
    }
}

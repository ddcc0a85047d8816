package dev.tern.config;

import dev.tern.journal.Durability;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal's settings. Owned by the journal layer.
 *
 * @param durability      when a 250 may be sent
 * @param maxBatch        messages appended before one shared sync (group commit)
 * @param rollInterval    length of one journal cycle file (Chronicle roll cycle); one of {@link #ROLL_INTERVALS}
 * @param maxRecordBytes  largest message (envelope + stored body) the journal accepts; sizes the mapped blocks
 * @param compactRatio    old cycles are compacted (pending messages copied forward, files deleted) once their still
 *                        pending bytes are at most this fraction of their message bytes; 0 compacts only empty cycles
 */
public record JournalSettings(Durability durability, int maxBatch, Duration rollInterval, long maxRecordBytes,
                              double compactRatio) {

    public static final Duration DEFAULT_ROLL_INTERVAL = Duration.ofHours(1);
    public static final long DEFAULT_MAX_RECORD_BYTES = 60L << 20;
    public static final double DEFAULT_COMPACT_RATIO = 0.5;

    /** The roll intervals Chronicle Queue offers (five minutes to a day). */
    public static final List<Duration> ROLL_INTERVALS = List.of(Duration.ofMinutes(5), Duration.ofMinutes(10),
            Duration.ofMinutes(20), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2),
            Duration.ofHours(4), Duration.ofHours(6), Duration.ofDays(1));

    /** Every problem with these settings (empty when valid); the config layer reports them all at once. */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (durability == null) {
            p.add("journal durability is required");
        }
        if (maxBatch < 1) {
            p.add("journal maxBatch must be at least 1");
        }
        if (!ROLL_INTERVALS.contains(rollInterval)) {
            p.add("journal rollInterval must be one of " + ROLL_INTERVALS);
        }
        if (maxRecordBytes < 4096 || maxRecordBytes > (1L << 30)) {
            p.add("journal maxRecordBytes must be between 4 KiB and 1 GiB");
        }
        if (!(compactRatio >= 0 && compactRatio <= 1)) {
            p.add("journal compactRatio must be between 0 and 1");
        }
        return p;
    }

    /** Durability and batch size with the other settings at their defaults. */
    public JournalSettings(Durability durability, int maxBatch) {
        this(durability, maxBatch, DEFAULT_ROLL_INTERVAL, DEFAULT_MAX_RECORD_BYTES, DEFAULT_COMPACT_RATIO);
    }

    public static JournalSettings defaults() {
        return new JournalSettings(Durability.SYNC, 256);
    }

    public JournalSettings withDurability(Durability d) {
        return new JournalSettings(d, maxBatch, rollInterval, maxRecordBytes, compactRatio);
    }

    public JournalSettings withMaxBatch(int n) {
        return new JournalSettings(durability, n, rollInterval, maxRecordBytes, compactRatio);
    }

    public JournalSettings withRollInterval(Duration d) {
        return new JournalSettings(durability, maxBatch, d, maxRecordBytes, compactRatio);
    }

    public JournalSettings withMaxRecordBytes(long n) {
        return new JournalSettings(durability, maxBatch, rollInterval, n, compactRatio);
    }

    public JournalSettings withCompactRatio(double r) {
        return new JournalSettings(durability, maxBatch, rollInterval, maxRecordBytes, r);
    }
}

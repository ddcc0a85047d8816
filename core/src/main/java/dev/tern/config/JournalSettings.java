package dev.tern.config;

import dev.tern.journal.Durability;

/**
 * The journal's settings. Owned by the journal layer.
 *
 * @param durability when a 250 may be sent
 * @param maxBatch   messages appended before one shared sync (group commit)
 */
public record JournalSettings(Durability durability, int maxBatch) {
    public static JournalSettings defaults() {
        return new JournalSettings(Durability.SYNC, 256);
    }
}

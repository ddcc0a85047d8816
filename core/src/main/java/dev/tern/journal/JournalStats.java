package dev.tern.journal;

/**
 * Journal counters since start.
 *
 * @param messagesCommitted messages made durable
 * @param syncs             fsyncs issued (group commits)
 * @param failures          writes that answered {@link JournalException}
 * @param pendingMessages   messages still queued
 */
public record JournalStats(long messagesCommitted, long syncs, long failures, long pendingMessages) {
}

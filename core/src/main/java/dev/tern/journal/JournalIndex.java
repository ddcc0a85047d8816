package dev.tern.journal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The pending messages and the per-cycle accounting, rebuilt from the journal at open and kept current by the
 * writer thread after each durable batch.
 *
 * <p>Threading: every method is synchronized; the writer mutates, sessions, delivery and the CLI read snapshots.
 * Nothing here does I/O.
 */
final class JournalIndex {

    /** Where a pending message's body lies. */
    record BodyLocation(Path file, long offset, long length) {
    }

    /** Old cycles to drop: first carry {@code carry} forward (already a copy of their state), then delete. */
    record CompactionPlan(List<Integer> cycles, List<Path> files, List<StoredMessage> carry) {
    }

    /** Message bytes and still-pending bytes of one cycle file. */
    private static final class CycleUsage {
        Path file;
        long messageBytes;
        long liveBytes;
        int liveMessages;
    }

    private final LinkedHashMap<Long, StoredMessage> pending = new LinkedHashMap<>();
    private final TreeMap<Integer, CycleUsage> cycles = new TreeMap<>();

    /** Records that {@code cycle} exists in {@code file} (it may hold no message records at all). */
    synchronized void cycleSeen(int cycle, Path file) {
        usage(cycle).file = file;
    }

    synchronized boolean contains(long queueId) {
        return pending.containsKey(queueId);
    }

    /**
     * Adds a newly committed message, or re-homes a carried one (a copy-forward record supersedes the older record
     * of the same id, state included). A message that is already final is not added.
     */
    synchronized void put(StoredMessage m) {
        StoredMessage old = pending.get(m.queueId);
        if (old != null) {
            release(old);
        }
        CycleUsage u = usage(m.cycle);
        u.messageBytes += m.recordBytes;
        if (m.isFinal()) {
            pending.remove(m.queueId);
            return;
        }
        pending.put(m.queueId, m); // a carried message keeps its place in the age order
        u.liveBytes += m.recordBytes;
        u.liveMessages++;
    }

    /**
     * Applies the outcomes of one {@code record()} call. Each message touched counts one delivery attempt unless all
     * its outcomes in the call are operator deletions. Outcomes for unknown (already final or deleted) ids are
     * ignored. Returns the number of messages that became final.
     */
    synchronized int apply(List<Outcome> outcomes) {
        Map<Long, Boolean> attempted = new HashMap<>();
        int finished = 0;
        for (Outcome o : outcomes) {
            StoredMessage m = pending.get(o.queueId());
            if (m == null || o.recipientIndex() < 0 || o.recipientIndex() >= m.states.length) {
                continue;
            }
            m.states[o.recipientIndex()] = o.kind();
            m.lastDetail = RecordCodec.journaledDetail(o.detail()); // the same before and after a restart
            if (o.kind() == OutcomeKind.DEFERRED) {
                m.nextAttemptMillis = o.nextAttemptMillis();
            }
            attempted.merge(m.queueId, o.kind() != OutcomeKind.DELETED, Boolean::logicalOr);
        }
        for (Map.Entry<Long, Boolean> e : attempted.entrySet()) {
            StoredMessage m = pending.get(e.getKey());
            if (e.getValue()) {
                m.attempts++;
            }
            if (m.isFinal()) {
                pending.remove(m.queueId);
                release(m);
                finished++;
            }
        }
        return finished;
    }

    /** Oldest first: queue ids grow with acceptance time, and journal order changes when messages are carried. */
    synchronized List<QueuedMessage> snapshot() {
        List<QueuedMessage> out = new ArrayList<>(pending.size());
        for (StoredMessage m : pending.values()) {
            out.add(m.snapshot());
        }
        out.sort(Comparator.comparingLong(QueuedMessage::queueId));
        return out;
    }

    synchronized Optional<QueuedMessage> find(long queueId) {
        StoredMessage m = pending.get(queueId);
        return m == null ? Optional.empty() : Optional.of(m.snapshot());
    }

    synchronized BodyLocation location(long queueId) {
        StoredMessage m = pending.get(queueId);
        return m == null ? null : new BodyLocation(m.file, m.bodyOffset, m.bodyLength);
    }

    synchronized int size() {
        return pending.size();
    }

    /** Cycle numbers known to hold journal records, oldest first. */
    synchronized List<Integer> cycles() {
        return new ArrayList<>(cycles.keySet());
    }

    /**
     * Picks the longest run of oldest cycles, all before {@code currentCycle}, that may go: a run without pending
     * messages always may; a run with some may go, its pending messages being carried forward, if their bytes are at
     * most {@code ratio} of the run's message bytes and the run ends before the previous cycle (mail accepted just
     * before a roll gets a whole cycle to be delivered before it is copied). Only whole prefixes are dropped: an
     * outcome record lives in a later cycle than its message, so a pending message's state is always rebuilt from
     * cycles at or after its home cycle. Returns null when there is nothing to drop.
     */
    synchronized CompactionPlan plan(int currentCycle, double ratio) {
        long total = 0;
        long live = 0;
        int best = -1;
        int i = 0;
        List<Integer> prefix = new ArrayList<>();
        for (Map.Entry<Integer, CycleUsage> e : cycles.headMap(currentCycle, false).entrySet()) {
            total += e.getValue().messageBytes;
            live += e.getValue().liveBytes;
            prefix.add(e.getKey());
            if (live == 0 || (e.getKey() < currentCycle - 1 && live <= ratio * total)) {
                best = i;
            }
            i++;
        }
        if (best < 0) {
            return null;
        }
        List<Integer> drop = List.copyOf(prefix.subList(0, best + 1));
        List<Path> files = new ArrayList<>();
        for (int c : drop) {
            files.add(cycles.get(c).file);
        }
        int last = drop.getLast();
        List<StoredMessage> carry = new ArrayList<>();
        for (StoredMessage m : pending.values()) {
            if (m.cycle <= last) {
                carry.add(copyOf(m));
            }
        }
        return new CompactionPlan(drop, files, carry);
    }

    /** Forgets a deleted cycle; its messages were final or carried forward. */
    synchronized void forgetCycle(int cycle) {
        cycles.remove(cycle);
    }

    private static StoredMessage copyOf(StoredMessage m) {
        StoredMessage c = new StoredMessage(m.envelope, m.envelopeBytes);
        System.arraycopy(m.states, 0, c.states, 0, m.states.length);
        c.cycle = m.cycle;
        c.file = m.file;
        c.bodyOffset = m.bodyOffset;
        c.bodyLength = m.bodyLength;
        c.recordBytes = m.recordBytes;
        c.attempts = m.attempts;
        c.nextAttemptMillis = m.nextAttemptMillis;
        c.lastDetail = m.lastDetail;
        return c;
    }

    private void release(StoredMessage m) {
        CycleUsage u = cycles.get(m.cycle);
        if (u != null) {
            u.liveBytes -= m.recordBytes;
            u.liveMessages--;
        }
    }

    private CycleUsage usage(int cycle) {
        return cycles.computeIfAbsent(cycle, c -> new CycleUsage());
    }
}

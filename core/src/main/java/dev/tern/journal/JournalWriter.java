package dev.tern.journal;

import dev.tern.config.JournalSettings;
import dev.tern.message.EnvelopeRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.queue.impl.single.WriteLock;
import net.openhft.chronicle.wire.DocumentContext;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's single writer: one platform thread that owns the Chronicle appender. Callers enqueue
 * {@link WriteRequest}s on a lock-free MPSC queue and park; the writer drains up to {@code maxBatch} of them, appends
 * one document each, makes the batch durable with one {@code fdatasync} per cycle file touched (group commit), updates
 * the {@link JournalIndex}, tells the commit listeners and wakes the callers.
 *
 * <p>Why {@code FileChannel.force} and not Chronicle's {@code sync()}: under {@code SyncMode.SYNC} Chronicle msyncs
 * only the current mapped chunk; {@code fdatasync} on the cycle file writes back every dirty page of it, whichever
 * chunk or mapping dirtied it. A new cycle file is also made durable in its directory (fsync of the directory).
 *
 * <p>Bodies of {@link #WRITE_THROUGH_BYTES} or more bypass the mapping: the document's space is skipped in Chronicle
 * and the body is written into the file at that place with {@code writev} before the document is closed (see
 * {@link #writeBodyThrough}); smaller ones are copied into the mapping, into pages {@link #prezeroAhead} warmed.
 * In idle time the writer also reads the file's unwritten stretch into the page cache ({@link #warmAhead}), so that
 * a burst of large bodies is copied into pages that already exist.
 *
 * <p>Failures (disk full surfaces as {@link InternalError} from a SIGBUS on a mapped page, an unwritable or vanished
 * directory as an exception from Chronicle) fail only the request being written: its half document is rolled back,
 * the appender is dropped and re-created for the next request, and the thread keeps serving.
 *
 * <p>Threading: {@link #submit} from any thread; everything else runs on the writer thread.
 */
final class JournalWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(JournalWriter.class);
    /** Busy polls before parking: enough to catch a burst, short enough not to starve sessions on 2 cores. */
    private static final int SPINS = 200;
    /** Parked writers wake this often to roll and compact even when no mail arrives. */
    private static final long HOUSEKEEPING_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** After a failed compaction (disk full, say) wait this long before the next try. */
    private static final long COMPACT_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final MethodHandle WRITE_LOCK = findWriteLock();
    /** Bytes of the cycle file kept written with zeros ahead of the append position (see {@link #prezeroAhead}). */
    static final long PREZERO_WINDOW = 8L << 20;
    /** Most bytes {@link #prezeroAhead} writes between two batches. */
    static final long PREZERO_STEP = 64L << 10;
    /** The page size the pre-zeroing writes by; 4 KiB on x86-64 and on most arm64 kernels. */
    private static final int PAGE = 4096;
    /** Body bytes carried forward per compaction step between batches. */
    static final long CARRY_BUDGET_BYTES = 32L << 20;
    /** One page of zeros: {@link #writeZeros} writes a page per call (see there why). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PAGE).asReadOnlyBuffer();
    /**
     * Bodies of at least this many bytes are written through the file ({@code writev}), not copied into the mapping:
     * see {@link #writeBodyThrough}. Below it one syscall per message costs more than the copy into pre-zeroed pages.
     */
    static final long WRITE_THROUGH_BYTES = 64L << 10;
    /** How far past the append position idle time reads the cycle file into the page cache ({@link #warmAhead}). */
    static final long WARM_AHEAD = 256L << 20;
    /**
     * Bytes per {@link #warmAhead} read: a system call per 256 KiB costs little, and a request that arrives during
     * one waits at most for one (about 0.1 ms of fresh pages here).
     */
    private static final int WARM_READ = 256 << 10;
    /** How often {@link #aheadEnd} asks for the file's size while the windows ahead reach past the size seen. */
    private static final long SIZE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final SingleChronicleQueue queue;
    private final Path dir;
    private final JournalSettings settings;
    private final JournalIndex index;
    /** Delivery's read channels: a cycle file is forgotten there before it is deleted. */
    private final OpenCycleFiles openCycleFiles;
    private final List<Consumer<QueuedMessage>> listeners = new CopyOnWriteArrayList<>();
    private final MpscUnboundedXaddArrayQueue<WriteRequest> requests = new MpscUnboundedXaddArrayQueue<>(1024);
    private final WriteRequest[] batch;
    private final Thread thread;

    /** Open channels of cycle files for fdatasync, by cycle; only the writer thread touches them. */
    private final Map<Integer, FileChannel> channels = new HashMap<>();
    /** Cycle files by cycle, as the appender reported them. */
    private final Map<Integer, Path> cycleFiles = new HashMap<>();
    /** Cycles whose channel is open but whose directory entry has not been synced yet ({@link #openChannel}). */
    private final Set<Integer> directoryUnsynced = new HashSet<>();
    /** Reused by {@link #writeBodyThrough}: the body's chunks as one gathering write, and their start positions. */
    private ByteBuffer[] gather = new ByteBuffer[16];
    private int[] gatherStarts = new int[16];

    private ExcerptAppender appender;
    private volatile boolean running = true;
    private volatile boolean parked;

    private volatile long messagesCommitted;
    private volatile long syncs;
    private volatile long failures;

    /** Cycle and end position of the last document this appender completed; MIN_VALUE when unknown. */
    private int lastAppendCycle = Integer.MIN_VALUE;
    private long lastAppendEnd;
    private int zeroedCycle = Integer.MIN_VALUE;
    private long zeroedUpTo;
    /** {@link #lastAppendEnd} at the previous {@link #prezeroAhead}: how far appends moved since. */
    private long prezeroSeenPos;
    /** After a failed pre-zeroing or warming step (disk full, say), neither runs again before this time. */
    private long prezeroBackoffUntil;
    /** {@link #warmAhead}'s cycle, how far it has read, and its buffer (allocated on first use). */
    private int warmedCycle = Integer.MIN_VALUE;
    private long warmedUpTo;
    private ByteBuffer warmScratch;
    /** {@link #aheadEnd}'s cycle, the size it last saw, and when it asked. */
    private int sizedCycle = Integer.MIN_VALUE;
    private long sizeSeen;
    private long sizeSeenAt;

    private int lastPlannedCycle = Integer.MIN_VALUE;
    private boolean finishedSincePlan = true;
    private long nextCompactNanos;

    JournalWriter(SingleChronicleQueue queue, Path dir, JournalSettings settings, JournalIndex index,
                  OpenCycleFiles openCycleFiles) {
        this.openCycleFiles = openCycleFiles;
        this.queue = queue;
        this.dir = dir;
        this.settings = settings;
        this.index = index;
        this.batch = new WriteRequest[settings.maxBatch()];
        this.thread = Thread.ofPlatform().name("tern-journal-writer").daemon(true).unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Cycles replayed at open, so the writer knows which files it did not create. */
    void knownCycle(int cycle, Path file) {
        cycleFiles.put(cycle, file);
    }

    void addListener(Consumer<QueuedMessage> listener) {
        listeners.add(listener);
    }

    long messagesCommitted() {
        return messagesCommitted;
    }

    long syncs() {
        return syncs;
    }

    long failures() {
        return failures;
    }

    /** Enqueues {@code r}, wakes the writer if it is parked and waits until {@code r} is done. */
    void submit(WriteRequest r) throws JournalException {
        if (!running) {
            throw new JournalException("journal is closed");
        }
        requests.offer(r);
        if (parked) {
            LockSupport.unpark(thread);
        }
        if (!running && thread.getState() == Thread.State.TERMINATED) {
            failRemaining(); // raced with close(): nobody else will complete it
        }
        r.await();
    }

    /** Stops the writer after the requests already queued, and waits for it. */
    void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failRemaining();
    }

    @Override
    public void run() {
        int idle = 0;
        while (true) {
            int n = 0;
            WriteRequest next;
            while (n < batch.length && (next = requests.relaxedPoll()) != null) {
                batch[n++] = next;
            }
            if (n == 0) {
                if (!running) {
                    break;
                }
                if (++idle < SPINS) {
                    Thread.onSpinWait();
                    continue;
                }
                idle = 0;
                parked = true;
                long parkedAt = System.nanoTime();
                if (requests.isEmpty() && running) {
                    LockSupport.parkNanos(this, HOUSEKEEPING_NANOS);
                }
                parked = false;
                // Idle work only after a whole quiet timeout. An empty queue after an early return is no sign of
                // idleness: a submitter that saw this thread parked a moment ago leaves a permit that ends the next
                // park at once, and under load that sent the writer into page-cache warming between batches (perf at
                // 9,000 msgs/s: 3-4% of its CPU, in 6 of 16 seconds, requests waiting behind each 256 KiB read).
                if (requests.isEmpty() && System.nanoTime() - parkedAt >= HOUSEKEEPING_NANOS) {
                    housekeeping();
                    while (requests.isEmpty() && (prezeroAhead() || warmAhead())) {
                        // fill the windows while nobody waits
                    }
                }
                continue;
            }
            idle = 0;
            try {
                process(n);
            } catch (Throwable t) {
                LOG.error("journal writer: unexpected failure, batch failed", t);
                for (int i = 0; i < n; i++) {
                    if (!batch[i].isDone()) {
                        fail(batch[i], t);
                    }
                }
            }
            Arrays.fill(batch, 0, n, null);
            prezeroAhead();
            housekeeping();
        }
        closeAppender();
        for (FileChannel ch : channels.values()) {
            closeQuietly(ch);
        }
        channels.clear();
        failRemaining();
    }

    private void process(int n) {
        List<Integer> touched = new ArrayList<>(2);
        boolean anyAppended = false;
        for (int i = 0; i < n; i++) {
            WriteRequest r = batch[i];
            try {
                switch (r.kind) {
                    case MESSAGE -> appendMessage(r);
                    case OUTCOMES -> appendOutcomes(r);
                    case COMPACT -> {
                        continue; // runs after the batch is durable
                    }
                }
                anyAppended = true;
                if (!touched.contains(r.cycle)) {
                    touched.add(r.cycle);
                }
            } catch (JournalException e) {
                fail(r, e);
            } catch (Throwable t) {
                LOG.warn("journal append failed: {}", t.toString());
                recoverAppender();
                fail(r, t);
            }
        }
        if (anyAppended) {
            try {
                makeDurable(touched, settings.durability() == Durability.SYNC);
            } catch (Throwable t) {
                LOG.warn("journal sync failed: {}", t.toString());
                for (int i = 0; i < n; i++) {
                    if (!batch[i].isDone() && batch[i].kind != WriteRequest.Kind.COMPACT) {
                        fail(batch[i], t);
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            WriteRequest r = batch[i];
            if (r.isDone() || r.kind == WriteRequest.Kind.COMPACT) {
                continue;
            }
            if (r.kind == WriteRequest.Kind.MESSAGE) {
                index.put(r.stored);
                messagesCommitted++;
                notifyListeners(r.stored);
            } else if (index.apply(r.outcomes) > 0) {
                finishedSincePlan = true;
            }
            r.complete(null);
        }
        for (int i = 0; i < n; i++) {
            WriteRequest r = batch[i];
            if (r.kind == WriteRequest.Kind.COMPACT) {
                try {
                    compact();
                    r.complete(null);
                } catch (Throwable t) {
                    fail(r, t);
                }
            }
        }
    }

    private void appendMessage(WriteRequest r) throws JournalException {
        byte[] envArray = r.envelope.array();
        int envLength = r.envelope.length();
        EnvelopeRecord rec;
        try {
            rec = EnvelopeRecord.decode(ByteBuffer.wrap(envArray, 0, envLength));
        } catch (IllegalArgumentException e) {
            throw new JournalException("malformed envelope: " + e.getMessage(), e);
        }
        if (rec.recipients().isEmpty()) {
            throw new JournalException("envelope has no recipients");
        }
        if (index.contains(rec.queueId())) {
            throw new JournalException("queue id " + rec.queueId() + " is already queued");
        }
        long bodyLength = 0;
        for (ByteBuffer chunk : r.body.chunks()) {
            bodyLength += chunk.remaining();
        }
        if (envLength + bodyLength > settings.maxRecordBytes()) {
            throw new JournalException("message of " + (envLength + bodyLength) + " bytes exceeds the journal's limit");
        }
        ExcerptAppender app = appender();
        long bodyOffset;
        DocumentContext dc = app.writingDocument();
        try {
            Bytes<?> b = dc.wire().bytes();
            RecordCodec.writeMessageHead(b, rec.queueId(), envArray, envLength, bodyLength);
            bodyOffset = b.writePosition();
            if (bodyLength >= WRITE_THROUGH_BYTES) {
                writeBodyThrough(app, bodyOffset, bodyLength, r.body.chunks());
                b.writeSkip(bodyLength);
            } else {
                for (ByteBuffer chunk : r.body.chunks()) {
                    RecordCodec.writeBody(b, chunk);
                }
            }
        } catch (Throwable t) {
            rollback(dc);
            throw t;
        }
        dc.close();
        noteAppended(app);
        StoredMessage m = new StoredMessage(rec, Arrays.copyOf(envArray, envLength));
        placeAppended(m, app, bodyOffset, bodyLength);
        r.stored = m;
        r.cycle = m.cycle;
        if (bodyLength >= WRITE_THROUGH_BYTES) {
            // The body went in by writev, not through the mapping: prezeroAhead need not catch up on the stretch it
            // jumped over (that would be thousands of page writes for a 10 MiB body).
            prezeroSeenPos = lastAppendEnd;
        }
    }

    /**
     * Writes a large body into the cycle file with {@code writev} at its place in the open document, instead of
     * copying it into Chronicle's mapping. Stores into fresh pages of a mapped sparse file fault each page in and
     * zero it first (measured: two thirds of the relay's CPU with 10 MiB messages); a write covering whole pages
     * fills the page cache directly, and the mapping sees the same pages. The document stays unpublished until
     * Chronicle closes it (its length word is written last), and the batch's {@code fdatasync} covers these pages
     * like mapped ones, so a crash still leaves the record wholly present or absent. {@code chunks} keep their
     * positions.
     *
     * <p>On a failed write (disk full) the bytes written so far are overwritten with zeros before the exception
     * propagates: Chronicle expects zeros past its write position, and its rollback only clears up to that position,
     * which the caller advances past the body only after this returns.
     */
    private void writeBodyThrough(ExcerptAppender app, long offset, long length, List<ByteBuffer> chunks)
            throws JournalException {
        FileChannel ch = channelForWrite(app.cycle(), app);
        int n = chunks.size();
        if (gather.length < n) {
            gather = new ByteBuffer[Math.max(n, 2 * gather.length)];
            gatherStarts = new int[gather.length];
        }
        for (int i = 0; i < n; i++) {
            gather[i] = chunks.get(i);
            gatherStarts[i] = gather[i].position();
        }
        long done = 0;
        try {
            ch.position(offset);
            int first = 0;
            while (done < length) {
                while (first < n && !gather[first].hasRemaining()) {
                    first++;
                }
                long w = ch.write(gather, first, n - first);
                if (w <= 0) {
                    throw new IOException("no progress at " + (offset + done));
                }
                done += w;
            }
        } catch (IOException e) {
            zeroQuietly(ch, offset, done);
            throw new UncheckedIOException("journal body write failed: " + e.getMessage(), e);
        } finally {
            for (int i = 0; i < n; i++) {
                gather[i].position(gatherStarts[i]);
                gather[i] = null;
            }
        }
    }

    private static void zeroQuietly(FileChannel ch, long at, long length) {
        try {
            writeZeros(ch, at, at + length);
        } catch (IOException e) {
            LOG.warn("journal: clearing a failed body write failed: {}", e.toString());
        }
    }

    /**
     * Writes zeros over {@code [at, end)} of {@code ch}, one page per {@code pwrite}; returns the position reached
     * (short if a write stalls). One page per call because the kernel sizes page-cache folios by the write: ext4
     * on Linux 6.16+ gives a multi-page write folios as large as the write and its alignment allow, and a store
     * through Chronicle's mapping dirties its whole folio, so each {@code fdatasync} after a 1 KiB record wrote a
     * folio back (1 MiB writes: 470 KB per sync in {@code JournalWriteBackTest}, 62 KiB of disk writes per message
     * in the relay). Page-sized writes keep the pages the mapping stores into as separate 4 KiB folios. Also used by
     * {@link TornTail}, which clears the stretch the next records are stored into.
     */
    static long writeZeros(FileChannel ch, long at, long end) throws IOException {
        ByteBuffer z = ZEROS.duplicate();
        while (at < end) {
            z.clear().limit((int) Math.min(PAGE - (at & (PAGE - 1)), end - at));
            int n = ch.write(z, at);
            if (n <= 0) {
                break;
            }
            at += n;
        }
        return at;
    }

    /** The writer's channel of the appender's current cycle file, opened on first use. */
    private FileChannel channelForWrite(int cycle, ExcerptAppender app) throws JournalException {
        FileChannel ch = channels.get(cycle);
        if (ch != null) {
            return ch;
        }
        try {
            return openChannel(cycle, fileOf(cycle, app));
        } catch (IOException e) {
            throw new JournalException("cannot open journal cycle file: " + e.getMessage(), e);
        }
    }

    /** Opens the writer's channel of a cycle file; until its first sync, its directory entry counts as not durable. */
    private FileChannel openChannel(int cycle, Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channels.put(cycle, ch);
        directoryUnsynced.add(cycle);
        return ch;
    }

    private void appendOutcomes(WriteRequest r) throws JournalException {
        for (Outcome o : r.outcomes) {
            if (o.recipientIndex() < 0 || o.recipientIndex() > 0xFFFF || o.kind() == null) {
                throw new JournalException("invalid outcome " + o);
            }
        }
        ExcerptAppender app = appender();
        DocumentContext dc = app.writingDocument();
        try {
            RecordCodec.writeOutcomes(dc.wire().bytes(), r.outcomes);
        } catch (Throwable t) {
            rollback(dc);
            throw t;
        }
        dc.close();
        noteAppended(app);
        r.cycle = cycleOf(app);
        fileOf(r.cycle, app);
    }

    /** Copies a pending message out of an old cycle into the current one, delivery state included. */
    private StoredMessage appendCarried(StoredMessage old) throws IOException {
        ExcerptAppender app = appender();
        long[] bodyOffset = new long[1];
        DocumentContext dc = app.writingDocument();
        try {
            Bytes<?> b = dc.wire().bytes();
            RecordCodec.writeCarriedHead(b, old);
            bodyOffset[0] = b.writePosition();
            BodyMapping.stream(old.file, old.bodyOffset, old.bodyLength, piece -> RecordCodec.writeBody(b, piece));
        } catch (Throwable t) {
            rollback(dc);
            throw t;
        }
        dc.close();
        noteAppended(app);
        StoredMessage m = new StoredMessage(old.envelope, old.envelopeBytes);
        System.arraycopy(old.states, 0, m.states, 0, old.states.length);
        m.attempts = old.attempts;
        m.nextAttemptMillis = old.nextAttemptMillis;
        m.lastDetail = old.lastDetail;
        placeAppended(m, app, bodyOffset[0], old.bodyLength);
        return m;
    }

    private void placeAppended(StoredMessage m, ExcerptAppender app, long bodyOffset, long bodyLength) {
        m.cycle = cycleOf(app);
        m.file = fileOf(m.cycle, app);
        m.bodyOffset = bodyOffset;
        m.bodyLength = bodyLength;
        m.recordBytes = m.envelopeBytes.length + bodyLength;
    }

    /** Right after a document of ours closed, the appender's write position is its end (index pages included). */
    private void noteAppended(ExcerptAppender app) {
        lastAppendCycle = cycleOf(app);
        lastAppendEnd = app.wire().bytes().writePosition();
    }

    private int cycleOf(ExcerptAppender app) {
        return queue.rollCycle().toCycle(app.lastIndexAppended());
    }

    private Path fileOf(int cycle, ExcerptAppender app) {
        Path f = cycleFiles.get(cycle);
        if (f == null) {
            f = app.currentFile().toPath();
            cycleFiles.put(cycle, f);
            index.cycleSeen(cycle, f);
        }
        return f;
    }

    /**
     * fdatasyncs every cycle file the batch wrote to (several if it crossed a roll); a file synced for the first
     * time also gets its directory entry synced. Under {@link Durability#OS} only the bookkeeping is done.
     */
    private void makeDurable(List<Integer> cycles, boolean force) throws IOException {
        for (int c : cycles) {
            FileChannel ch = channels.get(c);
            if (ch == null) {
                ch = openChannel(c, cycleFiles.get(c));
            }
            boolean fresh = directoryUnsynced.remove(c);
            if (force) {
                ch.force(false);
                if (fresh) {
                    syncDirectory();
                }
            }
        }
        if (force) {
            syncs++;
        }
        int newest = Integer.MIN_VALUE;
        for (int c : cycles) {
            newest = Math.max(newest, c);
        }
        // Older cycles receive no more appends: their channels are no longer needed.
        var it = channels.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (e.getKey() < newest) {
                closeQuietly(e.getValue());
                directoryUnsynced.remove(e.getKey());
                it.remove();
            }
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Keeps {@link #PREZERO_WINDOW} bytes past the append position of the current cycle file written with zeros, using
     * plain {@code pwrite}s. Appending into a sparse mapped file page-faults on every fresh page (block allocation and
     * zero-fill in the fault path: ~20x slower than this on the machine measured, see JournalBenchmark); zeros
     * already in the page cache turn those into cheap minor faults. Safe because it runs on the writer thread
     * between documents and only past Chronicle's write position (the end of the last document, index pages
     * included), where the file holds nothing but zeros anyway; it never grows the file. Best effort: a failure
     * (disk full) is ignored for a while.
     *
     * <p>Each call writes {@link #PREZERO_STEP} plus what the writer appended since the last call, not the whole
     * window: it runs between batches, and a batch waiting behind a whole window of zeros (4 MiB took 3-12 ms here)
     * showed in the end-of-data p99.
     *
     * @return whether the window still has a gap after this call
     */
    private boolean prezeroAhead() {
        FileChannel ch = aheadChannel();
        if (ch == null) {
            return false;
        }
        try {
            if (lastAppendCycle != zeroedCycle) {
                zeroedCycle = lastAppendCycle;
                zeroedUpTo = 0;
                prezeroSeenPos = 0;
            }
            long pos = lastAppendEnd;
            long step = PREZERO_STEP + Math.max(0, pos - prezeroSeenPos);
            prezeroSeenPos = pos;
            long at = Math.max(zeroedUpTo, (pos + 2 * PAGE) & ~(PAGE - 1L));
            long windowEnd = aheadEnd(ch, pos + PREZERO_WINDOW);
            if (windowEnd - at < PREZERO_STEP) {
                return false;
            }
            long to = Math.min(at + step, windowEnd);
            zeroedUpTo = Math.max(zeroedUpTo, writeZeros(ch, at, to));
            return zeroedUpTo == to && windowEnd - to >= PREZERO_STEP;
        } catch (IOException | RuntimeException e) {
            backOffAhead("pre-zeroing", e);
            return false;
        }
    }

    /**
     * In idle time only: reads the next {@link #WARM_READ} bytes of the current cycle file, up to {@link #WARM_AHEAD}
     * past the append position, into the page cache. Past what Chronicle has written the file is a hole; reading it
     * makes its pages as clean zero pages. A large body is copied into the file with {@code writev}
     * ({@link #writeBodyThrough}), and into pages that do not exist yet that copy first allocates and zeroes each one:
     * with 10 MiB messages that was most of the writer's time (perf: {@code copy_folio_from_iter_atomic}), and it
     * happened while the sender waited. Reads change nothing in the file, never grow it (they stop at its end), and
     * leave no dirty pages to write back. Best effort, like {@link #prezeroAhead}.
     *
     * @return whether there is more to read
     */
    private boolean warmAhead() {
        FileChannel ch = aheadChannel();
        if (ch == null) {
            return false;
        }
        try {
            if (lastAppendCycle != warmedCycle) {
                warmedCycle = lastAppendCycle;
                warmedUpTo = 0;
            }
            long at = Math.max(warmedUpTo, lastAppendEnd);
            long end = aheadEnd(ch, lastAppendEnd + WARM_AHEAD);
            if (end - at < WARM_READ) {
                return false;
            }
            if (warmScratch == null) {
                warmScratch = ByteBuffer.allocateDirect(WARM_READ);
            }
            int n = ch.read(warmScratch.clear(), at);
            warmedUpTo = at + Math.max(n, 0);
            return n > 0;
        } catch (IOException | RuntimeException e) {
            backOffAhead("page cache warming", e);
            return false;
        }
    }

    /**
     * Where a window ahead that would like to reach {@code wanted} ends: there, or at the end of the current cycle
     * file if that comes first. The file's size is asked of the file system only when {@code wanted} reaches past
     * the size seen last, and then at most every {@link #SIZE_CHECK_NANOS} (Chronicle grows the file by whole blocks). An
     * {@code fstat} marks the file's timestamps as seen, so the next write stamps a new fine-grained time and
     * dirties the inode, and on ext4 the next commit's {@code fdatasync} then writes the inode block too: one more
     * synchronous write per commit when this was asked after every batch: 4.0 write requests per commit then, 3.1
     * now ({@code JournalWriteBackTest}); {@code fdatasync} p50 0.34-0.36 ms then, 0.21-0.33 now, at 9,000 msgs/s.
     */
    private long aheadEnd(FileChannel ch, long wanted) throws IOException {
        long now = System.nanoTime();
        if (sizedCycle != lastAppendCycle || (wanted > sizeSeen && now - sizeSeenAt > SIZE_CHECK_NANOS)) {
            sizedCycle = lastAppendCycle;
            sizeSeen = ch.size();
            sizeSeenAt = now;
        }
        return Math.min(wanted, sizeSeen);
    }

    /** The current cycle file's channel for {@link #prezeroAhead} and {@link #warmAhead}; null while backed off. */
    private FileChannel aheadChannel() {
        if (lastAppendCycle == Integer.MIN_VALUE || System.nanoTime() - prezeroBackoffUntil < 0) {
            return null;
        }
        return channels.get(lastAppendCycle);
    }

    private void backOffAhead(String what, Exception e) {
        LOG.debug("journal {} skipped: {}", what, e.toString());
        prezeroBackoffUntil = System.nanoTime() + COMPACT_RETRY_NANOS;
    }

    private void housekeeping() {
        if (!running || System.nanoTime() - nextCompactNanos < 0) {
            return;
        }
        int current = queue.cycle();
        if (current == lastPlannedCycle && !finishedSincePlan) {
            return;
        }
        try {
            compactStep();
        } catch (Throwable t) {
            LOG.warn("journal compaction failed, retrying later: {}", t.toString());
            recoverAppender();
            nextCompactNanos = System.nanoTime() + COMPACT_RETRY_NANOS;
        }
    }

    /** Runs compaction steps until nothing is left to drop (an explicit {@code compact()} request). */
    private void compact() throws IOException {
        while (!compactStep()) {
            LOG.debug("journal compaction continues");
        }
    }

    /**
     * One step of dropping old cycles (see {@link JournalIndex#plan}): carries their pending messages forward (at most
     * {@link #CARRY_BUDGET_BYTES} of bodies per step, so commits waiting behind a large backlog are not stalled),
     * makes the copies durable, and once nothing is left to carry deletes the files. A crash in between leaves both
     * copies; replay keeps the later one. Returns true when the compaction is complete.
     */
    private boolean compactStep() throws IOException {
        int current = queue.cycle();
        JournalIndex.CompactionPlan plan = index.plan(current, settings.compactRatio());
        lastPlannedCycle = current;
        finishedSincePlan = false;
        if (plan == null) {
            return true;
        }
        List<StoredMessage> carried = new ArrayList<>();
        List<Integer> touched = new ArrayList<>(1);
        long budget = CARRY_BUDGET_BYTES;
        for (StoredMessage old : plan.carry()) {
            if (budget <= 0) {
                break;
            }
            StoredMessage m = appendCarried(old);
            budget -= m.recordBytes;
            carried.add(m);
            if (!touched.contains(m.cycle)) {
                touched.add(m.cycle);
            }
        }
        if (!carried.isEmpty()) {
            makeDurable(touched, true);
        }
        for (StoredMessage m : carried) {
            index.put(m);
        }
        if (carried.size() < plan.carry().size()) {
            finishedSincePlan = true; // more to carry: the next housekeeping round continues
            LOG.info("journal compaction: {} of {} pending messages carried forward so far", carried.size(),
                    plan.carry().size());
            return false;
        }
        for (int i = 0; i < plan.cycles().size(); i++) {
            int c = plan.cycles().get(i);
            FileChannel ch = channels.remove(c);
            directoryUnsynced.remove(c);
            if (ch != null) {
                closeQuietly(ch);
            }
            Path f = plan.files().get(i);
            if (f != null) {
                openCycleFiles.forget(f);
                Files.deleteIfExists(f);
            }
            cycleFiles.remove(c);
            index.forgetCycle(c);
        }
        syncDirectory();
        queue.refreshDirectoryListing();
        LOG.info("journal compacted cycles {} ({} pending messages carried forward)", plan.cycles(), carried.size());
        return true;
    }

    private ExcerptAppender appender() {
        if (appender == null) {
            appender = queue.createAppender();
        }
        return appender;
    }

    private static void rollback(DocumentContext dc) {
        try {
            dc.rollbackOnClose();
            dc.close();
        } catch (Throwable t) {
            LOG.warn("journal rollback failed: {}", t.toString());
        }
    }

    /**
     * After a failed append the appender may be mid-document: drop it (a new one is made for the next request) and
     * release Chronicle's write and append locks if this process still holds them. Chronicle leaves its write lock
     * held when {@code writingDocument()} itself fails (e.g. the next cycle file cannot be created), and would then
     * wait its full lock timeout on the next write. This thread is the only appender in the process, so a lock held
     * by this process is a leftover of the failed write.
     */
    private void recoverAppender() {
        closeAppender();
        lastAppendCycle = Integer.MIN_VALUE;
        releaseIfHeldByThisProcess(writeLock());
        releaseIfHeldByThisProcess(queue.appendLock());
    }

    private WriteLock writeLock() {
        if (WRITE_LOCK == null) {
            return null;
        }
        try {
            return (WriteLock) WRITE_LOCK.invoke(queue);
        } catch (Throwable t) {
            LOG.warn("cannot reach Chronicle's write lock: {}", t.toString());
            return null;
        }
    }

    private static void releaseIfHeldByThisProcess(WriteLock lock) {
        try {
            if (lock instanceof TableStoreWriteLock t && lock.isLockedByCurrentProcess(pid -> { })) {
                LOG.warn("releasing a Chronicle lock left held by a failed write");
                t.forceUnlock();
            }
        } catch (Throwable t) {
            LOG.warn("journal lock check failed: {}", t.toString());
        }
    }

    /** {@code SingleChronicleQueue.writeLock()} is package-private; it guards every append. */
    private static MethodHandle findWriteLock() {
        try {
            Method m = SingleChronicleQueue.class.getDeclaredMethod("writeLock");
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Chronicle's write lock is not reachable; a failed write may hold it until its timeout: {}",
                    e.toString());
            return null;
        }
    }

    private void closeAppender() {
        if (appender != null) {
            try {
                appender.close();
            } catch (Throwable t) {
                LOG.warn("journal appender close failed: {}", t.toString());
            }
            appender = null;
        }
    }

    private void notifyListeners(StoredMessage m) {
        if (listeners.isEmpty()) {
            return;
        }
        QueuedMessage snapshot = m.snapshot();
        for (Consumer<QueuedMessage> l : listeners) {
            try {
                l.accept(snapshot);
            } catch (Throwable t) {
                LOG.error("journal commit listener failed", t);
            }
        }
    }

    private void fail(WriteRequest r, Throwable t) {
        failures++;
        r.complete(t);
    }

    private synchronized void failRemaining() {
        WriteRequest r;
        while ((r = requests.poll()) != null) {
            r.complete(new JournalException("journal is closed"));
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing a cycle file channel: {}", e.toString());
        }
    }
}

package dev.tern.journal;

import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.channels.ClosedChannelException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Journal} on Chronicle Queue: one directory of cycle files (one per roll interval) holding typed records
 * (see {@link RecordCodec}), written by one {@link JournalWriter} thread with group commit, replayed at open by
 * {@link Recovery}. Old cycles are deleted once their messages are final, pending ones being carried forward first.
 *
 * <p>Threading: every method may be called from any thread (virtual ones included); writes block the caller until
 * durable. Ownership: the journal owns its directory exclusively while open (an OS file lock on {@code tern.lock}
 * refuses a second writer); {@link JournalReader} may read it meanwhile from another process.
 */
public final class ChronicleJournal implements Journal {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleJournal.class);
    /** What the operator reads after "journal D is damaged: why.". */
    private static final String REFUSAL = "Refusing to start so that nothing more is lost: copy the directory for"
            + " repair, then move the damaged cycle file aside to start without its messages";
    /** The same, when the damage is in Chronicle's metadata file, which it rebuilds from the cycle files. */
    private static final String METADATA_REFUSAL = "Refusing to start; with the relay stopped, move "
            + SingleChronicleQueue.QUEUE_METADATA_FILE + " aside and Chronicle rebuilds it";
    static final String LOCK_FILE = "tern.lock";
    static final long CHRONICLE_WAIT_MILLIS = 2_000;
    /** Chronicle's wait for the file lock of its metadata file, read once when its table store class loads. */
    static final String TABLE_STORE_WAIT_PROPERTY = "chronicle.table.store.timeoutMS";

    static {
        // The same reasoning as timeoutMS below: a metadata file whose fields are garbage leaves Chronicle waiting
        // for that lock (held by its own earlier read of the file) for 10 s before it gives up. The test JVMs set
        // it on the command line too, in case a test loads Chronicle before this class.
        if (System.getProperty(TABLE_STORE_WAIT_PROPERTY) == null) {
            System.setProperty(TABLE_STORE_WAIT_PROPERTY, Long.toString(CHRONICLE_WAIT_MILLIS));
        }
    }

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final JournalIndex index;
    private final JournalWriter writer;
    private final OpenCycleFiles openCycleFiles;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private volatile boolean closed;

    private ChronicleJournal(Path dir, SingleChronicleQueue queue, JournalIndex index, JournalWriter writer,
                             OpenCycleFiles openCycleFiles, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.queue = queue;
        this.index = index;
        this.writer = writer;
        this.openCycleFiles = openCycleFiles;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Opens (creating if needed) the journal in {@code dataDir}, replays it and starts the writer thread. */
    public static ChronicleJournal open(Path dataDir, JournalSettings settings) throws JournalException {
        return open(dataDir, settings, InstantSource.system());
    }

    /** As {@link #open(Path, JournalSettings)} with the clock that decides cycle rolls (tests pass a fake one). */
    public static ChronicleJournal open(Path dataDir, JournalSettings settings, InstantSource clock)
            throws JournalException {
        Objects.requireNonNull(settings, "settings");
        List<String> problems = settings.problems();
        if (!problems.isEmpty()) {
            throw new JournalException("invalid journal settings: " + String.join("; ", problems));
        }
        FileChannel lockChannel = null;
        SingleChronicleQueue queue = null;
        try {
            Files.createDirectories(dataDir);
            lockChannel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(lockChannel);
            if (lock == null) {
                throw new JournalException("journal " + dataDir + " is in use by another process");
            }
            String metadata = JournalFileHeaders.metadataDamage(dataDir);
            if (metadata != null) {
                throw new JournalException("journal " + dataDir + " is damaged: " + metadata + ". " + METADATA_REFUSAL);
            }
            String cycle = JournalFileHeaders.cycleDamage(dataDir);
            if (cycle != null) {
                throw new JournalException("journal " + dataDir + " is damaged: " + cycle + ". " + REFUSAL);
            }
            SingleChronicleQueueBuilder builder = builder(dataDir, settings.rollInterval(), settings.maxRecordBytes(),
                    clock);
            queue = builder.build();
            if (builder.readOnly()) {
                // Chronicle falls back to read-only (and says so in the builder) when it cannot use its metadata
                // file; every commit would then fail.
                throw new JournalException("journal " + dataDir + " opened read-only: its "
                        + SingleChronicleQueue.QUEUE_METADATA_FILE + " is damaged or not writable. "
                        + METADATA_REFUSAL);
            }
            syncMetadata(dataDir);
            JournalIndex index = new JournalIndex();
            OpenCycleFiles openCycleFiles = new OpenCycleFiles();
            JournalWriter writer = new JournalWriter(queue, dataDir, settings, index, openCycleFiles);
            Recovery.Result r = Recovery.replay(queue, index, writer::knownCycle);
            if (r.damage() != null) {
                // Serving on would let compaction delete the unread records, and mail accepted now would be written
                // where the next replay cannot reach it either.
                throw new JournalException("journal " + dataDir + " is damaged: " + r.damage() + ". " + REFUSAL);
            }
            // Chronicle caps a document at a quarter of its block.
            TornTail.clear(dataDir, r.lastFile(), r.lastEnd(), blockSize(settings.maxRecordBytes()) / 4);
            LOG.info("journal {} opened: {} records replayed, {} unreadable, {} messages pending", dataDir,
                    r.records(), r.skipped(), index.size());
            writer.start();
            return new ChronicleJournal(dataDir, queue, index, writer, openCycleFiles, lockChannel, lock);
        } catch (JournalException e) {
            closeQuietly(queue, lockChannel);
            throw e;
        } catch (IOException | RuntimeException | InternalError e) {
            closeQuietly(queue, lockChannel);
            // Chronicle names its metadata file when that is what it could not use (garbage in its fields).
            boolean metadata = String.valueOf(e.getMessage()).contains(SingleChronicleQueue.QUEUE_METADATA_FILE);
            throw new JournalException("cannot open journal " + dataDir + ": " + e
                    + (metadata ? ". " + METADATA_REFUSAL : ""), e);
        }
    }

    /**
     * Chronicle's metadata file (roll cycle, epoch, cycle listing) is created at first open and never synced by
     * Chronicle; make it and its directory entry durable once, before anything is acknowledged.
     */
    private static void syncMetadata(Path dir) throws IOException {
        Path meta = dir.resolve(SingleChronicleQueue.QUEUE_METADATA_FILE);
        if (Files.exists(meta)) {
            try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Null when another process, or another journal in this JVM, holds the lock. */
    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    /** The Chronicle queue as Tern configures it; shared with {@link JournalReader}. */
    static SingleChronicleQueueBuilder builder(Path dir, Duration rollInterval, long maxRecordBytes,
                                               InstantSource clock) {
        return SingleChronicleQueueBuilder.binary(dir)
                .rollCycle(rollCycle(rollInterval))
                .blockSize(blockSize(maxRecordBytes))
                .timeProvider(clock::millis)
                // Chronicle waits this long for a lock or a header another writer holds. Tern holds the journal's
                // lock, so no other writer exists: what is still held after it is a dead process's (Chronicle then
                // takes it over) or damage (open fails). Chronicle's 10 s would only delay the answer.
                .timeoutMS(CHRONICLE_WAIT_MILLIS)
                // Durability is the writer's fdatasync per batch; Chronicle's own msync would only add work.
                .syncMode(SyncMode.NONE);
    }

    /** Chronicle caps a document at a quarter of the block: size the block for the largest record plus headers. */
    static long blockSize(long maxRecordBytes) {
        long need = 4 * (maxRecordBytes + 4096);
        return Math.max(1L << 20, Long.highestOneBit(need - 1) << 1);
    }

    static RollCycle rollCycle(Duration d) {
        long minutes = d.toMinutes();
        if (minutes == 5) {
            return RollCycles.FIVE_MINUTELY;
        } else if (minutes == 10) {
            return RollCycles.TEN_MINUTELY;
        } else if (minutes == 20) {
            return RollCycles.TWENTY_MINUTELY;
        } else if (minutes == 30) {
            return RollCycles.HALF_HOURLY;
        } else if (minutes == 60) {
            return RollCycles.FAST_HOURLY;
        } else if (minutes == 120) {
            return RollCycles.TWO_HOURLY;
        } else if (minutes == 240) {
            return RollCycles.FOUR_HOURLY;
        } else if (minutes == 360) {
            return RollCycles.SIX_HOURLY;
        } else if (minutes == 1440) {
            return RollCycles.FAST_DAILY;
        }
        throw new IllegalArgumentException("unsupported roll interval " + d);
    }

    @Override
    public void commit(Envelope envelope, MessageBody body) throws JournalException {
        writer.submit(WriteRequest.message(envelope, body));
    }

    @Override
    public void record(List<Outcome> outcomes) throws JournalException {
        if (outcomes.isEmpty()) {
            return;
        }
        writer.submit(WriteRequest.outcomes(List.copyOf(outcomes)));
    }

    @Override
    public List<QueuedMessage> pending() {
        return index.snapshot();
    }

    @Override
    public Optional<QueuedMessage> find(long queueId) {
        return index.find(queueId);
    }

    @Override
    public void onCommitted(Consumer<QueuedMessage> listener) {
        writer.addListener(Objects.requireNonNull(listener));
    }

    @Override
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        readBody(index, openCycleFiles, queueId, consumer);
    }

    /**
     * Shared with {@link JournalReader} ({@code files} null: each read opens the file). A compaction may move the body
     * meanwhile: look it up again then.
     */
    static void readBody(JournalIndex index, OpenCycleFiles files, long queueId, Consumer<ByteBuffer> consumer)
            throws JournalException {
        for (int attempt = 0; attempt < 3; attempt++) {
            JournalIndex.BodyLocation loc = index.location(queueId);
            if (loc == null) {
                throw new JournalException("message " + queueId + " is not queued");
            }
            try {
                if (files == null) {
                    BodyMapping.stream(loc.file(), loc.offset(), loc.length(), consumer);
                } else {
                    BodyMapping.stream(files.channel(loc.file()), loc.file(), loc.offset(), loc.length(), consumer);
                }
                return;
            } catch (NoSuchFileException | ClosedChannelException e) {
                LOG.debug("body of {} moved during read, retrying", queueId);
            } catch (IOException e) {
                throw new JournalException("cannot read message " + queueId + ": " + e, e);
            }
        }
        throw new JournalException("message " + queueId + " kept moving while being read");
    }

    /**
     * Runs a compaction now on the writer thread (normally it runs when a cycle rolls or messages become final);
     * for tests and {@code tern queue} maintenance.
     */
    void compact() throws JournalException {
        writer.submit(WriteRequest.compact());
    }

    /** The queue's directory. */
    public Path directory() {
        return dir;
    }

    @Override
    public JournalStats stats() {
        return new JournalStats(writer.messagesCommitted(), writer.syncs(), writer.failures(), index.size());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        writer.close();
        openCycleFiles.close();
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing journal lock: {}", e.toString());
        }
        closeQuietly(queue, lockChannel);
    }

    private static void closeQuietly(SingleChronicleQueue queue, FileChannel lockChannel) {
        try {
            if (queue != null) {
                queue.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("closing journal queue: {}", e.toString());
        }
        try {
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.debug("closing journal lock: {}", e.toString());
        }
    }
}

package dev.tern.journal;

import java.io.IOException;
import dev.tern.config.JournalSettings;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only snapshot of a journal for {@code tern queue list/show}, safe to take from another process while the
 * relay runs: the queue is opened read-only (no Chronicle lock is taken, nothing is written), replayed once into an
 * index and closed again. Bodies are then read straight from the cycle files. A body the running relay has since
 * compacted away answers {@link JournalException}: take a new snapshot.
 *
 * <p>Threading: immutable after {@link #open}; any thread may use it.
 */
public final class JournalReader {
    private static final Logger LOG = LoggerFactory.getLogger(JournalReader.class);
    /** Headers larger than this are cut in {@link #headers}. */
    public static final int MAX_HEADER_BYTES = 64 << 10;

    private final JournalIndex index;

    private JournalReader(JournalIndex index) {
        this.index = index;
    }

    /** Snapshots the journal in {@code dataDir} written with default settings. */
    public static JournalReader open(Path dataDir) throws JournalException {
        return open(dataDir, JournalSettings.defaults());
    }

    /** Snapshots the journal in {@code dataDir}; {@code settings} must allow its largest record. */
    public static JournalReader open(Path dataDir, JournalSettings settings) throws JournalException {
        if (!Files.isDirectory(dataDir)) {
            throw new JournalException("no journal at " + dataDir);
        }
        refuseLostHeader(dataDir);
        JournalIndex index = new JournalIndex();
        try (SingleChronicleQueue q = ChronicleJournal.builder(dataDir, settings.rollInterval(),
                settings.maxRecordBytes(), InstantSource.system()).readOnly(true).build()) {
            Recovery.Result r = Recovery.replay(q, index, (cycle, file) -> { });
            if (r.damage() != null) {
                LOG.warn("journal {} is damaged: {}; what follows lists only what comes before", dataDir, r.damage());
            }
        } catch (RuntimeException | InternalError e) {
            throw new JournalException("cannot read journal " + dataDir + ": " + e, e);
        }
        return new JournalReader(index);
    }

    /** Chronicle would stall on, then skip, a cycle file whose header is lost (see {@link JournalFileHeaders}). */
    private static void refuseLostHeader(Path dataDir) throws JournalException {
        String damage;
        try {
            damage = JournalFileHeaders.metadataDamage(dataDir);
            if (damage == null) {
                damage = JournalFileHeaders.cycleDamage(dataDir);
            }
        } catch (IOException e) {
            throw new JournalException("cannot read journal " + dataDir + ": " + e, e);
        }
        if (damage != null) {
            throw new JournalException("journal " + dataDir + " is damaged: " + damage);
        }
    }

    /** The pending messages of {@code dataDir}, oldest first. */
    public static List<QueuedMessage> scan(Path dataDir) throws JournalException {
        return open(dataDir).pending();
    }

    public List<QueuedMessage> pending() {
        return index.snapshot();
    }

    public Optional<QueuedMessage> find(long queueId) {
        return index.find(queueId);
    }

    /** Streams the stored body (trace header first), as {@link Journal#readBody} does. */
    public void readBody(long queueId, Consumer<ByteBuffer> consumer) throws JournalException {
        ChronicleJournal.readBody(index, null, queueId, consumer);
    }

    /**
     * The stored message's header section (up to the first empty line, at most {@link #MAX_HEADER_BYTES}), decoded
     * as UTF-8 with malformed bytes replaced: for display only.
     */
    public String headers(long queueId) throws JournalException {
        return headerSection(consumer -> readBody(queueId, consumer));
    }

    /** Where a body comes from: {@link Journal#readBody} or {@link #readBody}, bound to one message. */
    @FunctionalInterface
    public interface BodySource {
        void readBody(Consumer<ByteBuffer> consumer) throws JournalException;
    }

    /**
     * The header section of the body {@code source} streams (up to the first empty line, at most
     * {@link #MAX_HEADER_BYTES}), decoded as UTF-8 with malformed bytes replaced: for display only.
     */
    public static String headerSection(BodySource source) throws JournalException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] last4 = {0};
        source.readBody(piece -> {
            while (piece.hasRemaining() && out.size() < MAX_HEADER_BYTES && last4[0] != BLANK_LINE) {
                byte b = piece.get();
                out.write(b);
                last4[0] = (last4[0] << 8) | (b & 0xFF);
            }
        });
        return out.toString(StandardCharsets.UTF_8);
    }

    /** CR LF CR LF as the last four bytes seen, packed big-endian. */
    private static final int BLANK_LINE = 0x0D0A0D0A;
}

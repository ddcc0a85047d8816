package dev.tern.journal;

import dev.tern.message.EnvelopeRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.bytes.Bytes;

/**
 * The layout of Tern's journal records. Each record is one Chronicle document, so it is either wholly present or
 * absent after a crash (Chronicle publishes a document's length only when it is complete). Integers use Chronicle's
 * native byte order, written and read through the same {@link Bytes} API.
 *
 * <pre>
 * MESSAGE  u8 type=1, i64 queueId, i32 envelopeLength, envelope, i64 bodyLength, body
 * CARRIED  u8 type=2, i64 queueId, i32 attempts, i64 nextAttemptMillis, u16 n, detail(n),
 *          u16 recipients, u8 state per recipient (0 never attempted, else 1 + OutcomeKind ordinal),
 *          i32 envelopeLength, envelope, i64 bodyLength, body
 * OUTCOMES u8 type=3, u16 count, then per outcome: i64 queueId, u16 recipientIndex, u8 kind ordinal,
 *          i64 atMillis, i64 nextAttemptMillis, u16 n, detail(n)
 * </pre>
 * A CARRIED record is a message copied forward out of an old cycle with its delivery state at that moment; it
 * supersedes every earlier record of the same id.
 *
 * <p>Threading: stateless; callers own the {@link Bytes} they pass.
 */
final class RecordCodec {
    static final byte MESSAGE = 1;
    static final byte CARRIED = 2;
    static final byte OUTCOMES = 3;

    /** Outcome details are remote replies; longer ones are cut (at a UTF-8 boundary) before they are journaled. */
    static final int MAX_DETAIL_BYTES = 1000;

    private static final OutcomeKind[] KINDS = OutcomeKind.values();

    private RecordCodec() {
    }

    static void writeMessageHead(Bytes<?> b, long queueId, byte[] envelope, int envelopeLength, long bodyLength) {
        b.writeByte(MESSAGE);
        b.writeLong(queueId);
        b.writeInt(envelopeLength);
        b.write(envelope, 0, envelopeLength);
        b.writeLong(bodyLength);
    }

    static void writeCarriedHead(Bytes<?> b, StoredMessage m) {
        b.writeByte(CARRIED);
        b.writeLong(m.queueId);
        b.writeInt(m.attempts);
        b.writeLong(m.nextAttemptMillis);
        writeDetail(b, m.lastDetail);
        b.writeUnsignedShort(m.states.length);
        for (OutcomeKind k : m.states) {
            b.writeByte((byte) (k == null ? 0 : 1 + k.ordinal()));
        }
        b.writeInt(m.envelopeBytes.length);
        b.write(m.envelopeBytes, 0, m.envelopeBytes.length);
        b.writeLong(m.bodyLength);
    }

    /**
     * Copies {@code src} from its position to its limit into {@code b} (off-heap to off-heap for direct buffers),
     * leaving {@code src}'s position as it was: the caller still owns it.
     */
    static void writeBody(Bytes<?> b, ByteBuffer src) {
        int start = src.position();
        try {
            while (src.hasRemaining()) {
                int before = src.position();
                b.writeSome(src);
                if (src.position() == before) {
                    throw new IllegalStateException("record exceeds the journal block: " + b.writeRemaining());
                }
            }
        } finally {
            src.position(start);
        }
    }

    static void writeOutcomes(Bytes<?> b, List<Outcome> outcomes) {
        b.writeByte(OUTCOMES);
        b.writeUnsignedShort(outcomes.size());
        for (Outcome o : outcomes) {
            b.writeLong(o.queueId());
            b.writeUnsignedShort(o.recipientIndex());
            b.writeByte((byte) o.kind().ordinal());
            b.writeLong(o.atMillis());
            b.writeLong(o.nextAttemptMillis());
            writeDetail(b, o.detail());
        }
    }

    /**
     * Applies one record read from {@code b} (positioned at its start, limited to its end) in {@code cycle}'s
     * {@code file} to {@code index}. Throws {@link IllegalArgumentException} for a record it cannot parse.
     */
    static void replay(Bytes<?> b, int cycle, Path file, JournalIndex index) {
        long recordStart = b.readPosition();
        try {
            byte type = b.readByte();
            switch (type) {
                case MESSAGE -> index.put(readStored(b, cycle, file, b.readLong(), null));
                case CARRIED -> {
                    long id = b.readLong();
                    StoredState st = new StoredState();
                    st.attempts = b.readInt();
                    st.nextAttemptMillis = b.readLong();
                    st.detail = readDetail(b);
                    int n = b.readUnsignedShort();
                    st.states = new byte[n];
                    for (int i = 0; i < n; i++) {
                        st.states[i] = b.readByte();
                    }
                    index.put(readStored(b, cycle, file, id, st));
                }
                case OUTCOMES -> index.apply(readOutcomes(b));
                default -> throw new IllegalArgumentException("unknown record type " + type);
            }
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IllegalArgumentException("malformed record at " + recordStart + " in " + file, e);
        }
    }

    /** Delivery state carried in a CARRIED record. */
    private static final class StoredState {
        int attempts;
        long nextAttemptMillis;
        String detail;
        byte[] states;
    }

    private static StoredMessage readStored(Bytes<?> b, int cycle, Path file, long id, StoredState st) {
        int envLength = b.readInt();
        if (envLength < 0 || envLength > b.readRemaining()) {
            throw new IllegalArgumentException("bad envelope length " + envLength);
        }
        byte[] env = new byte[envLength];
        b.read(env, 0, envLength);
        EnvelopeRecord rec = EnvelopeRecord.decode(ByteBuffer.wrap(env));
        if (rec.queueId() != id) {
            throw new IllegalArgumentException("envelope id differs from record id");
        }
        if (rec.recipients().isEmpty()) {
            // The writer never stores one; read as final, it would vanish from the queue without a word.
            throw new IllegalArgumentException("envelope has no recipients");
        }
        long bodyLength = b.readLong();
        if (bodyLength != b.readRemaining()) { // the body ends the record: Chronicle's length is exact
            throw new IllegalArgumentException("body length " + bodyLength + " but " + b.readRemaining()
                    + " bytes left in the record");
        }
        StoredMessage m = new StoredMessage(rec, env);
        m.cycle = cycle;
        m.file = file;
        m.bodyOffset = b.readPosition();
        m.bodyLength = bodyLength;
        m.recordBytes = envLength + bodyLength;
        if (st != null) {
            if (st.states.length != m.states.length) {
                throw new IllegalArgumentException("carried state has " + st.states.length + " recipients");
            }
            for (int i = 0; i < st.states.length; i++) {
                m.states[i] = st.states[i] == 0 ? null : KINDS[st.states[i] - 1];
            }
            m.attempts = st.attempts;
            m.nextAttemptMillis = st.nextAttemptMillis;
            m.lastDetail = st.detail;
        }
        return m;
    }

    private static List<Outcome> readOutcomes(Bytes<?> b) {
        int n = b.readUnsignedShort();
        List<Outcome> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long id = b.readLong();
            int rcpt = b.readUnsignedShort();
            OutcomeKind kind = KINDS[b.readUnsignedByte()];
            long at = b.readLong();
            long next = b.readLong();
            out.add(new Outcome(id, rcpt, kind, at, next, readDetail(b)));
        }
        return out;
    }

    private static void writeDetail(Bytes<?> b, String detail) {
        byte[] d = detail == null ? new byte[0] : detail.getBytes(StandardCharsets.UTF_8);
        int n = detailLength(d);
        b.writeUnsignedShort(n);
        b.write(d, 0, n);
    }

    /** {@code detail} as it is journaled: at most {@link #MAX_DETAIL_BYTES} of UTF-8, cut at a character boundary. */
    static String journaledDetail(String detail) {
        if (detail == null) {
            return "";
        }
        if (detail.length() <= MAX_DETAIL_BYTES / 3) {
            return detail; // at most 3 UTF-8 bytes per char: it fits whole, no need to encode it to know
        }
        byte[] d = detail.getBytes(StandardCharsets.UTF_8);
        int n = detailLength(d);
        return n == d.length ? detail : new String(d, 0, n, StandardCharsets.UTF_8);
    }

    private static int detailLength(byte[] d) {
        int n = Math.min(d.length, MAX_DETAIL_BYTES);
        while (n > 0 && n < d.length && (d[n] & 0xC0) == 0x80) {
            n--; // do not split a UTF-8 sequence
        }
        return n;
    }

    private static String readDetail(Bytes<?> b) {
        int n = b.readUnsignedShort();
        if (n > b.readRemaining()) { // read(byte[]) would quietly take what is left: a record cut short
            throw new IllegalArgumentException("detail of " + n + " bytes runs past the record's end");
        }
        byte[] d = new byte[n];
        b.read(d, 0, n);
        return new String(d, StandardCharsets.UTF_8);
    }
}

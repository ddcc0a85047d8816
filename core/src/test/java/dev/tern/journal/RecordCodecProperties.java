package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.openhft.chronicle.bytes.Bytes;

/**
 * Journal record decoding ({@link RecordCodec#replay}, with the envelope inside it, {@link EnvelopeRecord#decode}):
 * MESSAGE, CARRIED and OUTCOMES records written by the codec are read back into the index as they were written; a
 * damaged record (cut short or with octets changed) is either read or refused with {@link IllegalArgumentException},
 * the one exception {@link Recovery} handles, and a record cut short is never taken for a whole one. jqwik prints the
 * seed of a failure.
 */
class RecordCodecProperties {

    private static final Path FILE = Path.of("/journal/20261126.cq4");
    private static final int CYCLE = 7;

    /** What the session would put into an envelope. */
    record EnvelopeSpec(long queueId, String client, String helo, String sender, long size, int body, boolean utf8,
                        int ret, String envid, List<String> recipients, List<Integer> notifyFlags,
                        List<String> orcpts) {
    }

    @Provide
    Arbitrary<EnvelopeSpec> envelopes() {
        Arbitrary<String> text = Arbitraries.strings().withChars("ab@.-+=;\u00e9\u4f8b<>\"").ofMaxLength(30);
        Arbitrary<List<String>> rcpts = text.list().ofMinSize(1).ofMaxSize(6);
        return Combinators.combine(Arbitraries.longs(), text, text, text, Arbitraries.longs().between(-1, 1L << 40),
                        Arbitraries.integers().between(0, 3), Arbitraries.of(true, false),
                        Arbitraries.integers().between(0, 2))
                .flatAs((id, client, helo, sender, size, body, utf8, ret) -> Combinators.combine(text, rcpts,
                                Arbitraries.integers().between(0, 15).list().ofSize(6), text.list().ofSize(6))
                        .as((envid, to, notify, orcpts) -> new EnvelopeSpec(id, client, helo, sender, size, body,
                                utf8, ret, envid, to, notify, orcpts)));
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static Envelope build(EnvelopeSpec s) {
        Envelope e = new Envelope();
        e.begin(s.queueId(), 1_700_000_000_000L + s.size(), Envelope.utf8(s.client()), Envelope.utf8(s.helo()));
        ByteBuffer sender = utf8(s.sender());
        e.sender(sender, 0, sender.limit());
        ByteBuffer envid = utf8(s.envid());
        e.mailParameters(s.size(), s.body(), s.utf8(), s.ret(), envid, 0, envid.limit());
        for (int i = 0; i < s.recipients().size(); i++) {
            ByteBuffer a = utf8(s.recipients().get(i));
            ByteBuffer o = utf8(s.orcpts().get(i));
            e.addRecipient(a, 0, a.limit(), s.notifyFlags().get(i), o, 0, o.limit());
        }
        return e;
    }

    private static void assertDecodesTo(EnvelopeRecord r, EnvelopeSpec s) {
        assertThat(r.queueId()).isEqualTo(s.queueId());
        assertThat(r.receivedAtMillis()).isEqualTo(1_700_000_000_000L + s.size());
        assertThat(List.of(r.client(), r.helo(), r.sender(), r.envid()))
                .containsExactly(s.client(), s.helo(), s.sender(), s.envid());
        assertThat(List.of(r.size(), (long) r.body(), (long) r.ret())).containsExactly(s.size(), (long) s.body(),
                (long) s.ret());
        assertThat(r.smtputf8()).isEqualTo(s.utf8());
        assertThat(r.recipients()).hasSize(s.recipients().size());
        for (int i = 0; i < s.recipients().size(); i++) {
            assertThat(r.recipients().get(i)).isEqualTo(new EnvelopeRecord.Recipient(s.recipients().get(i),
                    s.notifyFlags().get(i), s.orcpts().get(i)));
        }
    }

    private static byte[] messageRecord(Envelope e, byte[] body) {
        Bytes<?> b = Bytes.allocateElasticOnHeap(64);
        RecordCodec.writeMessageHead(b, e.queueId(), e.array(), e.length(), body.length);
        RecordCodec.writeBody(b, ByteBuffer.wrap(body));
        return b.toByteArray();
    }

    private static void replay(byte[] record, JournalIndex index) {
        RecordCodec.replay(Bytes.wrapForRead(record), CYCLE, FILE, index);
    }

    // ---------------------------------------------------------------- round trips

    @Property(tries = 1000)
    void envelopeEncodingRoundTrips(@ForAll("envelopes") EnvelopeSpec spec) {
        Envelope e = build(spec);
        assertDecodesTo(EnvelopeRecord.decode(ByteBuffer.wrap(e.array(), 0, e.length())), spec);
    }

    @Property(tries = 1000)
    void messageRecordReplaysAsWritten(@ForAll("envelopes") EnvelopeSpec spec,
                                       @ForAll @net.jqwik.api.constraints.Size(max = 300) byte[] body) {
        Envelope e = build(spec);
        byte[] record = messageRecord(e, body);
        JournalIndex index = new JournalIndex();
        replay(record, index);
        QueuedMessage q = index.find(spec.queueId()).orElseThrow();
        assertDecodesTo(q.envelope(), spec);
        assertThat(q.bodyLength()).isEqualTo(body.length);
        assertThat(q.recipientStates()).hasSize(spec.recipients().size()).containsOnlyNulls();
        JournalIndex.BodyLocation where = index.location(spec.queueId());
        assertThat(where.file()).isEqualTo(FILE);
        assertThat(Arrays.copyOfRange(record, (int) where.offset(), (int) (where.offset() + where.length())))
                .isEqualTo(body);
    }

    @Provide
    Arbitrary<String> details() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.strings().withChars("250 ok\u00e9").ofMaxLength(40)),
                // Whole characters of 1 to 4 UTF-8 octets (a remote reply is decoded, so never a lone surrogate),
                // long enough to be cut at MAX_DETAIL_BYTES.
                net.jqwik.api.Tuple.of(1, Arbitraries.of("x", "\u00e9", "\u4f8b", "\ud83d\udce7").list().ofMinSize(300)
                        .ofMaxSize(700).map(l -> String.join("", l))));
    }

    @Provide
    Arbitrary<List<String>> detailLists() {
        return details().list().ofMaxSize(6);
    }

    /** Outcomes replayed over a message leave each recipient in its last state, with the detail as journaled. */
    @Property(tries = 600)
    void outcomesReplayAsWritten(@ForAll("envelopes") EnvelopeSpec spec,
                                 @ForAll("detailLists") List<String> details, @ForAll long seed) {
        Envelope e = build(spec);
        int n = spec.recipients().size();
        Random random = new Random(seed);
        List<Outcome> outcomes = new ArrayList<>();
        for (String d : details) {
            OutcomeKind kind = random.nextInt(3) == 0 ? OutcomeKind.DEFERRED
                    : OutcomeKind.values()[random.nextInt(OutcomeKind.values().length)];
            // Indexes past the last recipient too: the index must ignore them.
            outcomes.add(new Outcome(spec.queueId(), random.nextInt(n + 1), kind, random.nextLong(), random.nextLong(),
                    d));
        }
        Bytes<?> b = Bytes.allocateElasticOnHeap(64);
        RecordCodec.writeOutcomes(b, outcomes);
        JournalIndex replayed = new JournalIndex();
        replay(messageRecord(e, new byte[] {1, 2, 3}), replayed);
        replay(b.toByteArray(), replayed);

        JournalIndex direct = new JournalIndex();
        replay(messageRecord(e, new byte[] {1, 2, 3}), direct);
        direct.apply(outcomes);
        Optional<QueuedMessage> expected = direct.find(spec.queueId());
        assertThat(replayed.find(spec.queueId())).isEqualTo(expected);
        expected.ifPresent(q -> {
            assertThat(q.lastDetail().getBytes(StandardCharsets.UTF_8).length)
                    .isLessThanOrEqualTo(RecordCodec.MAX_DETAIL_BYTES);
            String last = outcomes.stream().filter(o -> o.recipientIndex() < n).map(Outcome::detail)
                    .reduce((first, second) -> second).orElse("");
            assertThat(last).startsWith(q.lastDetail());
        });
    }

    /** A CARRIED record (a message copied forward with its state) replays to the state it was written with. */
    @Property(tries = 1000)
    void carriedRecordReplaysAsWritten(@ForAll("envelopes") EnvelopeSpec spec, @ForAll long seed,
                                       @ForAll("details") String detail) {
        Envelope e = build(spec);
        byte[] envBytes = Arrays.copyOf(e.array(), e.length());
        StoredMessage m = new StoredMessage(EnvelopeRecord.decode(ByteBuffer.wrap(envBytes)), envBytes);
        Random random = new Random(seed);
        for (int i = 0; i < m.states.length; i++) {
            int k = random.nextInt(OutcomeKind.values().length + 1);
            m.states[i] = k == 0 ? OutcomeKind.DEFERRED : k == 1 ? null : OutcomeKind.values()[k - 1];
        }
        m.attempts = random.nextInt(1000);
        m.nextAttemptMillis = random.nextLong();
        m.lastDetail = RecordCodec.journaledDetail(detail);
        byte[] body = new byte[random.nextInt(100)];
        random.nextBytes(body);
        m.bodyLength = body.length;
        Bytes<?> b = Bytes.allocateElasticOnHeap(64);
        RecordCodec.writeCarriedHead(b, m);
        RecordCodec.writeBody(b, ByteBuffer.wrap(body));

        JournalIndex index = new JournalIndex();
        replay(b.toByteArray(), index);
        Optional<QueuedMessage> q = index.find(spec.queueId());
        if (m.isFinal()) {
            assertThat(q).isEmpty(); // a final message is not pending
        } else {
            assertThat(q).isPresent();
            assertThat(q.get().recipientStates()).containsExactly(m.states);
            assertThat(q.get().attempts()).isEqualTo(m.attempts);
            assertThat(q.get().nextAttemptMillis()).isEqualTo(m.nextAttemptMillis);
            assertThat(q.get().lastDetail()).isEqualTo(m.lastDetail);
            assertThat(q.get().bodyLength()).isEqualTo(body.length);
            assertDecodesTo(q.get().envelope(), spec);
        }
    }

    // ---------------------------------------------------------------- damaged records

    private static byte[] anyRecord(EnvelopeSpec spec, int type, Random random) {
        Envelope e = build(spec);
        byte[] body = new byte[random.nextInt(40)];
        random.nextBytes(body);
        if (type == 0) {
            return messageRecord(e, body);
        }
        Bytes<?> b = Bytes.allocateElasticOnHeap(64);
        if (type == 1) {
            byte[] envBytes = Arrays.copyOf(e.array(), e.length());
            StoredMessage m = new StoredMessage(EnvelopeRecord.decode(ByteBuffer.wrap(envBytes)), envBytes);
            m.lastDetail = "451 later";
            m.bodyLength = body.length;
            RecordCodec.writeCarriedHead(b, m);
            RecordCodec.writeBody(b, ByteBuffer.wrap(body));
        } else {
            List<Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < 1 + random.nextInt(3); i++) {
                outcomes.add(new Outcome(spec.queueId(), i, OutcomeKind.DEFERRED, 1, 2, "451 4.7.0 later " + i));
            }
            RecordCodec.writeOutcomes(b, outcomes);
        }
        return b.toByteArray();
    }

    /** Octets changed anywhere: the record is read or refused with IllegalArgumentException, nothing else. */
    @Property(tries = 1000)
    void damagedRecordsAreReadOrRefusedWithIllegalArgument(@ForAll("envelopes") EnvelopeSpec spec,
                                                          @ForAll @IntRange(max = 2) int type, @ForAll long seed,
                                                          @ForAll @IntRange(min = 1, max = 4) int flips) {
        Random random = new Random(seed);
        byte[] record = anyRecord(spec, type, random);
        for (int i = 0; i < flips; i++) {
            int at = random.nextInt(record.length);
            record[at] = random.nextInt(3) == 0 ? (byte) random.nextInt()
                    : (byte) (record[at] ^ (1 << random.nextInt(8)));
        }
        JournalIndex index = new JournalIndex();
        if (type == 2) {
            replay(messageRecord(build(spec), new byte[0]), index);
        }
        try {
            replay(record, index);
        } catch (IllegalArgumentException refused) {
            assertThat(refused).isNotNull();
        }
        for (QueuedMessage q : index.snapshot()) {
            assertThat(q.recipientStates()).hasSize(q.envelope().recipients().size());
            assertThat(q.bodyLength()).isBetween(0L, (long) record.length);
        }
    }

    /** A message or carried record cut short is refused, never taken for a whole record. */
    @Property(tries = 1000)
    void truncatedMessageRecordsAreRefused(@ForAll("envelopes") EnvelopeSpec spec, @ForAll @IntRange(max = 1) int type,
                                           @ForAll long seed) {
        Random random = new Random(seed);
        byte[] record = anyRecord(spec, type, random);
        byte[] cut = Arrays.copyOf(record, random.nextInt(record.length));
        JournalIndex index = new JournalIndex();
        boolean refused = false;
        try {
            replay(cut, index);
        } catch (IllegalArgumentException expected) {
            refused = true;
        }
        assertThat(refused).as("cut to %d of %d octets", cut.length, record.length).isTrue();
        assertThat(index.size()).isZero();
    }

    /** An outcomes record cut short is refused too: its last detail must not be read past the record's end. */
    @Property(tries = 1000)
    void truncatedOutcomesRecordsAreRefused(@ForAll("envelopes") EnvelopeSpec spec, @ForAll long seed) {
        Random random = new Random(seed);
        byte[] record = anyRecord(spec, 2, random);
        byte[] cut = Arrays.copyOf(record, random.nextInt(record.length));
        JournalIndex index = new JournalIndex();
        replay(messageRecord(build(spec), new byte[0]), index);
        boolean refused = false;
        try {
            replay(cut, index);
        } catch (IllegalArgumentException expected) {
            refused = true;
        }
        assertThat(refused).as("cut to %d of %d octets", cut.length, record.length).isTrue();
        assertThat(index.find(spec.queueId()).orElseThrow().attempts()).isZero();
    }
}

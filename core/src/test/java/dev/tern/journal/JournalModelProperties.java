package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of commits, outcomes, cycle rolls, compactions and restarts: the journal must always agree with a
 * plain in-memory model of the queue (ids, recipient states, attempts, next attempt, bodies).
 */
class JournalModelProperties {

    /** The model of one pending message. */
    private static final class Model {
        final int size;
        final OutcomeKind[] states;
        int attempts;
        long next;

        Model(int recipients, int size) {
            this.states = new OutcomeKind[recipients];
            this.size = size;
        }

        boolean isFinal() {
            return Arrays.stream(states).allMatch(k -> k != null && k.isFinal());
        }
    }

    @Provide
    Arbitrary<List<Integer>> operations() {
        return Arbitraries.integers().between(0, 99).list().ofMinSize(5).ofMaxSize(40);
    }

    @Property(tries = 12)
    void journalAgreesWithTheModelThroughRollsCompactionsAndRestarts(@ForAll("operations") List<Integer> ops)
            throws Exception {
        Path dir = Files.createTempDirectory("tern-journal-model");
        BufferPool pool = new BufferPool(4096, 64, 64);
        FakeClock clock = new FakeClock(Instant.parse("2026-11-25T10:00:00Z"));
        JournalSettings settings = JournalSettings.defaults().withCompactRatio(0.5);
        Map<Long, Model> model = new TreeMap<>();
        ChronicleJournal j = ChronicleJournal.open(dir, settings, clock);
        try {
            for (int op : ops) {
                if (op < 40) {
                    long id = QueueId.next();
                    int rcpts = 1 + op % 3;
                    int size = 100 + op * 397;
                    String[] to = new String[rcpts];
                    for (int i = 0; i < rcpts; i++) {
                        to[i] = "r" + i + "@example.com";
                    }
                    MessageBody b = TestMessages.body(pool, TestMessages.content(id, size));
                    try {
                        j.commit(TestMessages.envelope(id, "s@example.org", to), b);
                    } finally {
                        b.release();
                    }
                    model.put(id, new Model(rcpts, size));
                } else if (op < 75 && !model.isEmpty()) {
                    List<Long> ids = new ArrayList<>(model.keySet());
                    long id = ids.get(op % ids.size());
                    Model m = model.get(id);
                    int rcpt = op % m.states.length;
                    OutcomeKind kind = OutcomeKind.values()[op % OutcomeKind.values().length];
                    long next = kind == OutcomeKind.DEFERRED ? 1000L * op : 0;
                    j.record(List.of(new Outcome(id, rcpt, kind, op, next, "detail " + op)));
                    m.states[rcpt] = kind;
                    if (kind == OutcomeKind.DEFERRED) {
                        m.next = next;
                    }
                    if (kind != OutcomeKind.DELETED) {
                        m.attempts++;
                    }
                    if (m.isFinal()) {
                        model.remove(id);
                    }
                } else if (op < 85) {
                    clock.advance(Duration.ofHours(1));
                } else if (op < 92) {
                    j.compact();
                } else {
                    j.close();
                    j = ChronicleJournal.open(dir, settings, clock);
                }
                assertAgrees(j, model);
            }
            j.close();
            j = ChronicleJournal.open(dir, settings, clock);
            assertAgrees(j, model);
            assertBodies(j, model);
        } finally {
            j.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        assertThat(pool.outstanding()).isZero();
    }

    private static void assertAgrees(Journal j, Map<Long, Model> model) {
        List<QueuedMessage> pending = j.pending();
        assertThat(pending).extracting(QueuedMessage::queueId).containsExactlyElementsOf(model.keySet());
        for (QueuedMessage q : pending) {
            Model m = model.get(q.queueId());
            assertThat(q.recipientStates()).containsExactly(m.states);
            assertThat(q.attempts()).isEqualTo(m.attempts);
            assertThat(q.nextAttemptMillis()).isEqualTo(m.next);
        }
    }

    private static void assertBodies(Journal j, Map<Long, Model> model) throws JournalException {
        for (Map.Entry<Long, Model> e : model.entrySet()) {
            assertThat(TestMessages.readBody(j, e.getKey()))
                    .isEqualTo(TestMessages.content(e.getKey(), e.getValue().size));
        }
    }
}

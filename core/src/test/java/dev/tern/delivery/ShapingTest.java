package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.DeliverySettings;
import dev.tern.config.DeliverySettings.Limits;
import dev.tern.config.RelayConfig;
import dev.tern.journal.OutcomeKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShapingTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: s\r\n\r\nbody\r\n";

    private TestSink a;
    private TestSink b;
    private MemoryJournal journal;
    private DeliveryEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        a = TestSink.start();
        b = TestSink.start();
        journal = new MemoryJournal();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (engine != null) {
            engine.close();
            assertThat(engine.buffersOutstanding()).as("pooled buffers leaked").isZero();
        }
        a.close();
        b.close();
    }

    private void start(Limits defaults, Map<String, Limits> overrides, int backoffAfter) {
        DeliverySettings s = DeliverySettings.defaults()
                .withRoutes(Map.of("a.test", List.of(a.hostPort()), "b.test", List.of(b.hostPort())))
                .withRetries(List.of(Duration.ofMillis(100)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withLimits(defaults, overrides)
                .withBackoff(backoffAfter, Duration.ofMinutes(1));
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
    }

    private void submit(String domain, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            journal.submit("", List.of("r" + i + "@" + domain), MESSAGE);
        }
    }

    @Test
    void neverOpensMoreConnectionsThanTheLimit() throws Exception {
        a.replyDelayMillis = 20;
        start(new Limits(2, 100, 0, 0), Map.of(), 5);
        submit("a.test", 12);

        assertThat(a.take(12, WAIT)).hasSize(12);

        assertThat(a.maxOpen.get()).isBetween(1, 2);
    }

    @Test
    void appliesAPerDomainOverride() throws Exception {
        a.replyDelayMillis = 20;
        b.replyDelayMillis = 20;
        start(new Limits(4, 100, 0, 0), Map.of("a.test", new Limits(1, 100, 0, 0)), 5);
        submit("a.test", 8);
        submit("b.test", 8);

        assertThat(a.take(8, WAIT)).hasSize(8);
        assertThat(b.take(8, WAIT)).hasSize(8);

        assertThat(a.maxOpen.get()).isEqualTo(1);
        assertThat(b.maxOpen.get()).isGreaterThan(1);
    }

    @Test
    void capsConnectionsToAHostSharedBySeveralDomains() throws Exception {
        a.replyDelayMillis = 20;
        DeliverySettings s = DeliverySettings.defaults()
                .withRoutes(Map.of("one.test", List.of(a.hostPort()), "two.test", List.of(a.hostPort())))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withLimits(new Limits(4, 100, 0, 0), Map.of(a.hostPort().host(), new Limits(1, 100, 0, 0)));
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
        submit("one.test", 6);
        submit("two.test", 6);

        assertThat(a.take(12, WAIT)).hasSize(12);

        assertThat(a.maxOpen.get()).isEqualTo(1);
    }

    @Test
    void spacesTransactionsToTheMessageRate() throws Exception {
        start(new Limits(4, 100, 10, 0), Map.of(), 5);
        submit("a.test", 5);

        assertThat(a.take(5, WAIT)).hasSize(5);

        List<Long> starts = a.transactionStartsNanos;
        long span = starts.getLast() - starts.getFirst();
        // 10 per second: five transactions need at least four 100 ms intervals (some slack for socket latency).
        assertThat(Duration.ofNanos(span)).isGreaterThan(Duration.ofMillis(350));
    }

    @Test
    void backsOffADestinationThatSays421WithoutSlowingOthers() throws Exception {
        a.rcptReply = r -> "421 4.7.0 too many messages, slow down";
        start(Limits.defaults(), Map.of(), 5);
        long first = journal.submit("", List.of("x@a.test"), MESSAGE);
        assertThat(journal.await(os -> !journal.outcomesOf(first).isEmpty(), WAIT)).isTrue();
        int connectionsToA = a.connections.get();

        submit("a.test", 3);
        submit("b.test", 3);

        assertThat(b.take(3, WAIT)).hasSize(3);
        assertThat(engine.stats().get("a.test").backedOff(System.currentTimeMillis())).isTrue();
        assertThat(engine.stats().get("b.test").backedOff(System.currentTimeMillis())).isFalse();
        assertThat(a.connections.get()).isEqualTo(connectionsToA);
        assertThat(journal.states(first)).containsExactly(OutcomeKind.DEFERRED);
    }

    @Test
    void backsOffAfterARunOfTemporaryFailures() throws Exception {
        a.rcptReply = r -> "451 4.3.0 busy";
        start(new Limits(1, 100, 0, 0), Map.of(), 3);
        submit("a.test", 3);

        assertThat(journal.await(os -> os.size() >= 3, WAIT)).isTrue();
        long end = System.nanoTime() + WAIT.toNanos();
        while (engine.stats().get("a.test").queued() < 3 && System.nanoTime() < end) {
            Thread.sleep(10); // the retries are scheduled just after the outcomes are journaled
        }

        DestinationStats s = engine.stats().get("a.test");
        assertThat(s.backedOff(System.currentTimeMillis())).isTrue();
        assertThat(s.deferred()).isEqualTo(3);
        assertThat(s.queued()).isEqualTo(3);
    }

    @Test
    void flushLiftsABackOff() throws Exception {
        a.rcptReply = r -> "421 4.7.0 slow down";
        start(Limits.defaults(), Map.of(), 5);
        long id = journal.submit("", List.of("x@a.test"), MESSAGE);
        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();
        a.rcptReply = r -> "250 2.1.5 ok";

        engine.flush();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(engine.stats().get("a.test").backedOff(System.currentTimeMillis())).isFalse();
    }
}

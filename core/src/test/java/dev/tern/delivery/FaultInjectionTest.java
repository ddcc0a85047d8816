package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.OutcomeKind;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SinkStats;
import dev.tern.sink.SmtpSink;
import dev.tern.sink.TernStamp;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Many messages through the loadgen branch's fault-injecting {@link SmtpSink} (tempfails and rejects at RCPT and at
 * the end of data, disconnects in the middle of DATA, slow replies): every recipient ends delivered or bounced, no
 * body is altered on the way, and every bounced recipient is reported in exactly one DSN.
 */
class FaultInjectionTest {
    private static final int MESSAGES = 60;

    private static HostPort hostPort(SmtpSink s) {
        InetSocketAddress a = s.localAddress();
        return new HostPort(a.getAddress().getHostAddress(), a.getPort());
    }

    private static String stamped(int n) throws Exception {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            body.append(i % 5 == 0 ? "." : "").append("message ").append(n).append(" line ").append(i).append("\r\n");
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.toString().getBytes(StandardCharsets.UTF_8));
        return new TernStamp(TernStamp.nowMicros(), digest).headerLine() + "Subject: fault " + n + "\r\n\r\n" + body;
    }

    @Test
    void everyRecipientEndsDeliveredOrBouncedWithIntactBodies() throws Exception {
        SinkSettings faulty = SinkSettings.builder().listen(new HostPort("127.0.0.1", 0)).seed(42)
                .tempfailRcptRatio(0.15).rejectRcptRatio(0.1).tempfailDataRatio(0.1).rejectDataRatio(0.05)
                .disconnectDataRatio(0.05).slowReplies(0.05, Duration.ofMillis(30)).build();
        try (SmtpSink sink = SmtpSink.start(faulty);
             SmtpSink senders = SmtpSink.start(SinkSettings.builder().listen(new HostPort("127.0.0.1", 0)).build())) {
            MemoryJournal journal = new MemoryJournal(512);
            DeliverySettings s = DeliverySettings.defaults()
                    .withRoutes(Map.of("fault.test", List.of(hostPort(sink)), "sender.test",
                            List.of(hostPort(senders))))
                    .withRetries(List.of(Duration.ofMillis(50), Duration.ofMillis(100)), Duration.ofMinutes(10))
                    .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2))
                    .withBackoff(1000, Duration.ofMillis(100));
            List<Long> ids = new ArrayList<>();
            try (DeliveryEngine engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal)) {
                for (int i = 0; i < MESSAGES; i++) {
                    ids.add(journal.submit("a@sender.test", List.of("x" + i + "@fault.test", "y" + i + "@fault.test"),
                            stamped(i)));
                }
                for (long id : ids) {
                    assertThat(journal.awaitFinal(id, Duration.ofSeconds(30))).isTrue();
                }
                long withBounce = ids.stream().filter(id -> journal.states(id).contains(OutcomeKind.BOUNCED)).count();
                long withDelivery = ids.stream()
                        .filter(id -> journal.states(id).contains(OutcomeKind.DELIVERED)).count();
                assertThat(senders.awaitMessages(journal.bounces().size(), Duration.ofSeconds(20))).isTrue();

                SinkStats stats = sink.stats();
                assertThat(ids).allSatisfy(id -> assertThat(journal.states(id))
                        .allMatch(k -> k == OutcomeKind.DELIVERED || k == OutcomeKind.BOUNCED));
                assertThat(stats.integrityFailures()).isZero();
                assertThat(stats.stamped()).isEqualTo(stats.messages());
                assertThat(stats.messages()).isGreaterThanOrEqualTo(withDelivery);
                assertThat(withBounce).isPositive();
                assertThat(withDelivery).isPositive();
                // A recipient bounced in one attempt and another in a later one give two DSNs: what must hold is
                // that every bounced recipient is reported exactly once.
                long bouncedRecipients = ids.stream().flatMap(id -> journal.states(id).stream())
                        .filter(k -> k == OutcomeKind.BOUNCED).count();
                long reported = journal.bounces().stream()
                        .map(b -> new String(journal.body(b.queueId()), StandardCharsets.UTF_8))
                        .mapToLong(text -> text.split("Final-Recipient: ", -1).length - 1).sum();
                assertThat(reported).isEqualTo(bouncedRecipients);
                assertThat(journal.bounces().size()).isBetween((int) withBounce, (int) bouncedRecipients);
                engine.close();
                assertThat(engine.buffersOutstanding()).isZero();
            }
        }
    }
}

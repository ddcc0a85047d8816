package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeliveryEngineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: hello\r\nFrom: a@sender.test\r\n\r\nline one\r\n.leading dot\r\n"
            + "..two dots\r\n.\r\nlast line\r\n";

    private TestSink sink;
    private TestSink senderSink;
    private MemoryJournal journal;
    private DeliveryEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        sink = TestSink.start();
        senderSink = TestSink.start();
        journal = new MemoryJournal(7); // small pieces: exercises state carried across piece boundaries
    }

    @AfterEach
    void tearDown() throws Exception {
        if (engine != null) {
            engine.close();
            assertThat(engine.buffersOutstanding()).as("pooled buffers leaked").isZero();
        }
        sink.close();
        senderSink.close();
    }

    private DeliverySettings settings() {
        return DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(sink.hostPort()), "sender.test",
                        List.of(senderSink.hostPort())))
                .withRetries(List.of(Duration.ofMillis(100), Duration.ofMillis(200)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))
                .withHeloName("tern.test");
    }

    private void start(DeliverySettings s) {
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
    }

    private static boolean has(List<Outcome> os, long id, int rcpt, OutcomeKind kind) {
        return os.stream().anyMatch(o -> o.queueId() == id && o.recipientIndex() == rcpt && o.kind() == kind);
    }

    @Test
    void deliversMessageIntactAndJournalsDelivered() throws Exception {
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r).isNotNull();
        assertThat(r.mail()).startsWith("<a@sender.test>");
        assertThat(r.rcpts()).containsExactly("b@rcpt.test");
        assertThat(r.text()).isEqualTo(MESSAGE);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void dotStuffsLeadingDotsOnTheWire() throws Exception {
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        String wire = new String(r.wire(), StandardCharsets.UTF_8);
        assertThat(wire).contains("\r\n..leading dot\r\n", "\r\n...two dots\r\n", "\r\n..\r\nlast line\r\n");
        assertThat(wire).endsWith("last line\r\n.\r\n");
    }

    @Test
    void neverSendsBareLineEndingsAndAlwaysEndsWithCrlf() throws Exception {
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), "Subject: x\r\n\r\nbare\nlf and bare\rcr\r\nno end");

        TestSink.Received r = sink.next(WAIT);

        assertThat(sink.bareLineEndings.get()).isZero();
        assertThat(r.text()).isEqualTo("Subject: x\r\n\r\nbare\r\nlf and bare\r\ncr\r\nno end\r\n");
    }

    @Test
    void sendsMailRcptAndDataInOneBatchWhenPipeliningIsOffered() throws Exception {
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();

        assertThat(sink.pipelinedBatches.get()).isEqualTo(1);
    }

    @Test
    void waitsForEachReplyWhenPipeliningIsNotOffered() throws Exception {
        sink.pipelining = false;
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test", "c@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.rcpts()).containsExactly("b@rcpt.test", "c@rcpt.test");
        assertThat(sink.pipeliningViolations.get()).isZero();
    }

    @Test
    void usesBdatWhenChunkingIsOfferedAndSendsContentUnstuffed() throws Exception {
        sink.chunking = true;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.bdat()).isTrue();
        assertThat(r.text()).isEqualTo(MESSAGE);
        assertThat(sink.commands).noneMatch(c -> c.equals("DATA"));
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
    }

    @Test
    void bdatNormalisesBareLineEndings() throws Exception {
        sink.chunking = true;
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), "Subject: x\r\n\r\nbare\nlf\r\nend");

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).isEqualTo("Subject: x\r\n\r\nbare\r\nlf\r\nend\r\n");
        assertThat(sink.bareLineEndings.get()).isZero();
    }

    @Test
    void waitsForEachBdatReplyWithoutPipelining() throws Exception {
        sink.chunking = true;
        sink.pipelining = false;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test", "c@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.bdat()).isTrue();
        assertThat(r.text()).isEqualTo(MESSAGE);
        assertThat(sink.pipeliningViolations.get()).isZero();
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
    }

    @Test
    void keepsMailQueuedWhenDeliveryIsDisabled() throws Exception {
        start(settings().withEnabled(false));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(sink.next(Duration.ofMillis(500))).isNull();

        assertThat(journal.find(id)).isPresent();
        assertThat(engine.queuedMessages()).isEqualTo(1);
    }

    @Test
    void fallsBackToHeloWhenEhloIsRejected() throws Exception {
        sink.ehlo = false;
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();

        assertThat(sink.commands).anyMatch(c -> c.equals("HELO tern.test"));
    }

    @Test
    void defersOnTempfailThenDeliversOnRetry() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        sink.rcptReply = a -> calls.incrementAndGet() == 1 ? "451 4.3.0 try later" : "250 2.1.5 ok";
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        List<Outcome> os = journal.outcomesOf(id);
        assertThat(os).extracting(Outcome::kind).containsExactly(OutcomeKind.DEFERRED, OutcomeKind.DELIVERED);
        assertThat(os.getFirst().nextAttemptMillis()).isGreaterThan(os.getFirst().atMillis());
        assertThat(os.getFirst().detail()).contains("451 4.3.0 try later");
    }

    @Test
    void defersOnAReplyCodeOutsideTwoToFiveHundredsInsteadOfBouncing() throws Exception {
        // A broken next hop's "650" is not a permanent failure: RFC 5321 replies are 2yz-5yz.
        AtomicInteger calls = new AtomicInteger();
        sink.rcptReply = a -> calls.incrementAndGet() == 1 ? "650 6.1.1 no such thing" : "250 2.1.5 ok";
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        List<Outcome> os = journal.outcomesOf(id);
        assertThat(os).extracting(Outcome::kind).containsExactly(OutcomeKind.DEFERRED, OutcomeKind.DELIVERED);
        assertThat(os.getFirst().detail()).contains("outside 2xx-5xx");
        assertThat(senderSink.received).as("no bounce to the sender").isEmpty();
    }

    @Test
    void recordsPerRecipientResultsFromOneTransaction() throws Exception {
        sink.rcptReply = a -> switch (a) {
            case "ok@rcpt.test" -> "250 2.1.5 ok";
            case "later@rcpt.test" -> "450 4.2.1 mailbox busy";
            default -> "550 5.1.1 no such user";
        };
        start(settings().withRetries(List.of(Duration.ofHours(1)), Duration.ofDays(5)));
        long id = journal.submit("a@sender.test", List.of("ok@rcpt.test", "later@rcpt.test", "gone@rcpt.test"),
                MESSAGE);

        assertThat(journal.await(os -> os.size() >= 3, WAIT)).isTrue();

        List<Outcome> os = journal.outcomesOf(id);
        assertThat(has(os, id, 0, OutcomeKind.DELIVERED)).isTrue();
        assertThat(has(os, id, 1, OutcomeKind.DEFERRED)).isTrue();
        assertThat(has(os, id, 2, OutcomeKind.BOUNCED)).isTrue();
        assertThat(sink.commands.stream().filter(c -> c.startsWith("MAIL")).count()).isEqualTo(1);
    }

    @Test
    void splitsManyRecipientsOverSeveralTransactions() throws Exception {
        start(settings().withMaxRecipientsPerTransaction(2));
        long id = journal.submit("a@sender.test", List.of("r1@rcpt.test", "r2@rcpt.test", "r3@rcpt.test",
                "r4@rcpt.test", "r5@rcpt.test"), MESSAGE);

        List<TestSink.Received> got = sink.take(3, WAIT);

        assertThat(got).extracting(r -> r.rcpts().size()).containsExactlyInAnyOrder(2, 2, 1);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
    }

    @Test
    void bouncesPermanentFailureWithDsnDeliveredToSenderWithNullReversePath() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 <" + a + ">: no such user";
        start(settings());
        long id = journal.submit("a@sender.test", List.of("gone@rcpt.test"), MESSAGE);

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn).isNotNull();
        assertThat(dsn.mail()).startsWith("<>");
        assertThat(dsn.rcpts()).containsExactly("a@sender.test");
        assertThat(dsn.text())
                .contains("Content-Type: multipart/report; report-type=delivery-status;")
                .contains("Content-Type: message/delivery-status")
                .contains("Reporting-MTA: dns; tern.test")
                .contains("Final-Recipient: rfc822; gone@rcpt.test")
                .contains("Original-Recipient: rfc822;gone@rcpt.test")
                .contains("Action: failed")
                .contains("Status: 5.1.1")
                .contains("Diagnostic-Code: smtp; 550 5.1.1 <gone@rcpt.test>: no such user")
                .contains("Content-Type: message/rfc822")
                .contains("line one\r\n");
        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
    }

    @Test
    void commitsTheDsnBeforeJournalingTheBounce() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        journal.refuseDsns = true; // the DSN cannot be stored: the recipient must stay queued, not bounce silently
        start(settings());
        long id = journal.submit("a@sender.test", List.of("gone@rcpt.test"), MESSAGE);

        assertThat(journal.await(os -> !journal.outcomesOf(id).isEmpty(), WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().kind()).isEqualTo(OutcomeKind.DEFERRED);
        assertThat(journal.bounces()).isEmpty();
        journal.refuseDsns = false;
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.bounces()).hasSize(1);
        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
    }

    @Test
    void returnsOnlyHeadersWhenRetIsHdrs() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        start(settings());
        journal.submit("a@sender.test", List.of("gone@rcpt.test"), MESSAGE, System.currentTimeMillis(),
                Envelope.RET_HDRS, "env+2Did", 0);

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn.text()).contains("Content-Type: text/rfc822-headers", "Subject: hello\r\n",
                "Original-Envelope-Id: env-id");
        assertThat(dsn.text()).doesNotContain("line one");
    }

    @Test
    void returnsOnlyTheHeadersOfALargeMessage() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        start(settings());
        journal.submit("a@sender.test", List.of("gone@rcpt.test"), MESSAGE + "x".repeat(990) + "\r\n".repeat(60)
                + ("y".repeat(998) + "\r\n").repeat(60));

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn.text()).contains("Content-Type: text/rfc822-headers", "Subject: hello\r\n");
        assertThat(dsn.text()).doesNotContain("line one").hasSizeLessThan(10_000);
    }

    @Test
    void sendsNoDsnWhenNotifyIsNever() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        start(settings());
        long id = journal.submit("a@sender.test", List.of("gone@rcpt.test"), MESSAGE, System.currentTimeMillis(),
                Envelope.RET_UNSPECIFIED, "", Envelope.NOTIFY_NEVER);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
        assertThat(journal.bounces()).isEmpty();
    }

    @Test
    void neverBouncesABounce() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        start(settings());
        long id = journal.submit("", List.of("gone@rcpt.test"), MESSAGE);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
        assertThat(journal.bounces()).extracting(EnvelopeRecord::queueId).containsExactly(id);
    }

    @Test
    void reportsRelayedForNotifySuccessWhenTheNextHopTakesNoDsnParameters() throws Exception {
        start(settings()); // the sink does not offer DSN
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE, System.currentTimeMillis(),
                Envelope.RET_UNSPECIFIED, "", Envelope.NOTIFY_SUCCESS);

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn.mail()).startsWith("<>");
        // RFC 3461 5.2.2, RFC 3464 2.3.3: handed to a next hop that will not report delivery, so "relayed".
        assertThat(dsn.text()).contains("Action: relayed", "Status: 2.");
    }

    @Test
    void leavesTheSuccessReportToANextHopThatTookNotifySuccess() throws Exception {
        sink.dsn = true;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE, System.currentTimeMillis(),
                Envelope.RET_UNSPECIFIED, "", Envelope.NOTIFY_SUCCESS);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        // RFC 3461 5.2.1: NOTIFY=SUCCESS went on to the next hop, which reports delivery; a report from here too would
        // tell the sender twice (and claim a delivery that has not happened yet).
        assertThat(sink.commands).anyMatch(c -> c.startsWith("RCPT TO:<b@rcpt.test> NOTIFY=SUCCESS"));
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        assertThat(journal.bounces()).isEmpty();
    }

    @Test
    void bouncesWithExpiredStatusWhenLifetimeIsOver() throws Exception {
        sink.rcptReply = a -> "451 4.3.0 try later";
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE,
                System.currentTimeMillis() - Duration.ofDays(11).toMillis(), Envelope.RET_UNSPECIFIED, "", 0);

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn.text()).contains("Status: 4.4.7", "Action: failed", "451 4.3.0 try later");
        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
    }

    @Test
    void bouncesOversizedMessageWithoutSendingIt() throws Exception {
        sink.size = 50;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().detail()).contains("552 5.3.4");
        assertThat(sink.commands).noneMatch(c -> c.startsWith("MAIL"));
    }

    @Test
    void passesSizeAndBodyParametersToThePeer() throws Exception {
        sink.size = 1_000_000;
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.mail()).contains("SIZE=" + MESSAGE.length(), "BODY=8BITMIME");
    }

    @Test
    void bouncesAnSmtputf8MessageWhenTheNextHopLacksSmtputf8() throws Exception {
        start(settings());
        long id = journal.submitUtf8("a@sender.test", List.of("j\u00fcrgen@rcpt.test"), MESSAGE);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().detail()).contains("553 5.6.7");
        assertThat(sink.commands).noneMatch(c -> c.startsWith("MAIL"));
    }

    /** RFC 6152 3: 8-bit content is not sent to a next hop that did not offer 8BITMIME; it comes back (5.6.3). */
    @Test
    void eightBitContentIsReturnedWhenTheNextHopLacks8bitmime() throws Exception {
        sink.eightBitMime = false;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"),
                "Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n");

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.outcomesOf(id)).singleElement().satisfies(o -> {
            assertThat(o.kind()).isEqualTo(OutcomeKind.BOUNCED);
            assertThat(o.detail()).contains("554 5.6.3", "8BITMIME");
        });
        assertThat(sink.commands).noneMatch(c -> c.startsWith("MAIL"));
    }

    /** Declared 8BITMIME but 7-bit in fact: it goes as it is, without a BODY parameter the hop would not know. */
    @Test
    void sevenBitContentDeclared8bitGoesToAHopWithout8bitmime() throws Exception {
        sink.eightBitMime = false;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).isEqualTo(MESSAGE);
        assertThat(r.mail()).doesNotContain("BODY=");
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.outcomesOf(id)).extracting(Outcome::kind).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void asksForSmtputf8WhenTheMessageNeedsIt() throws Exception {
        sink.smtputf8 = true;
        start(settings());
        journal.submitUtf8("a@sender.test", List.of("j\u00fcrgen@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.mail()).contains("SMTPUTF8");
        assertThat(r.rcpts()).containsExactly("j\u00fcrgen@rcpt.test");
    }

    @Test
    void passesDsnParametersWhenThePeerOffersDsn() throws Exception {
        sink.dsn = true;
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE, System.currentTimeMillis(),
                Envelope.RET_HDRS, "id+2B1", Envelope.NOTIFY_SUCCESS | Envelope.NOTIFY_FAILURE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.mail()).contains("RET=HDRS", "ENVID=id+2B1");
        assertThat(sink.commands).anyMatch(c -> c.startsWith("RCPT TO:<b@rcpt.test> NOTIFY=SUCCESS,FAILURE "
                + "ORCPT=rfc822;b@rcpt.test"));
    }

    @Test
    void retriesAfterDisconnectInTheMiddleOfData() throws Exception {
        sink.disconnectsInData.set(1);
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).isEqualTo(MESSAGE);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.outcomesOf(id)).extracting(Outcome::kind)
                .containsExactly(OutcomeKind.DEFERRED, OutcomeKind.DELIVERED);
        assertThat(sink.connections.get()).isEqualTo(2);
    }

    @Test
    void defersWhenTheNextHopRefusesConnections() throws Exception {
        HostPort closed = sink.hostPort();
        sink.close();
        start(settings().withRoutes(Map.of("rcpt.test", List.of(closed))));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        Outcome o = journal.outcomesOf(id).getFirst();
        assertThat(o.kind()).isEqualTo(OutcomeKind.DEFERRED);
        assertThat(o.detail()).contains("4.4.1");
    }

    @Test
    void triesTheNextHopWhenTheFirstIsDown() throws Exception {
        TestSink down = TestSink.start();
        HostPort dead = down.hostPort();
        down.close();
        start(settings().withRoutes(Map.of("rcpt.test", List.of(dead, sink.hostPort()))));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.outcomesOf(id)).extracting(Outcome::kind).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void deliversDespiteSlowReplies() throws Exception {
        sink.replyDelayMillis = 150;
        start(settings());
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void defersWhenThePeerStopsAnswering() throws Exception {
        sink.replyDelayMillis = 3_000;
        start(settings().withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofSeconds(5)));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);

        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().kind()).isEqualTo(OutcomeKind.DEFERRED);
    }

    @Test
    void defersWhenThePeerStopsReadingTheContent() throws Exception {
        sink.stallInData = true;
        start(settings().withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(5)));
        String big = "Subject: big\r\n\r\n" + ("z".repeat(998) + "\r\n").repeat(16_000); // more than socket buffers
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), big);

        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().kind()).isEqualTo(OutcomeKind.DEFERRED);
        assertThat(journal.outcomesOf(id).getFirst().detail()).contains("4.4.2");
    }

    @Test
    void deliversMessagesRecoveredFromTheJournalAtStart() throws Exception {
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        start(settings());

        assertThat(sink.next(WAIT)).isNotNull();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(sink.take(1, Duration.ofMillis(300))).isEmpty(); // once, not twice
    }

    @Test
    void reusesOneConnectionForSeveralMessagesWithoutRsetAfterCleanTransactions() throws Exception {
        start(settings().withLimits(new DeliverySettings.Limits(1, 100, 0, 0), Map.of()));
        for (int i = 0; i < 5; i++) {
            journal.submit("a@sender.test", List.of("b" + i + "@rcpt.test"), MESSAGE);
        }

        assertThat(sink.take(5, WAIT)).hasSize(5);

        assertThat(sink.connections.get()).isEqualTo(1);
        assertThat(sink.rsets.get()).isZero();
    }

    /**
     * Thirty messages queued for one next hop that allows one connection and offers CHUNKING; its first reply is slow,
     * so the others are waiting when the first transaction ends. Returns their ids.
     */
    private List<Long> startWithThirtyQueuedBehindASlowFirstTransaction() throws Exception {
        sink.chunking = true;
        sink.replyDelayMillis = 20;
        List<Long> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ids.add(journal.submit("a@sender.test", List.of("b" + i + "@rcpt.test"), MESSAGE));
        }
        start(settings().withLimits(new DeliverySettings.Limits(1, 100, 0, 0), Map.of()));
        return ids;
    }

    @Test
    void sendsWaitingMessagesInPipelinedBatchesOverOneConnection() throws Exception {
        List<Long> ids = startWithThirtyQueuedBehindASlowFirstTransaction();

        List<TestSink.Received> got = sink.take(30, WAIT);

        assertThat(got).hasSize(30).allMatch(r -> r.text().equals(MESSAGE));
        assertThat(got).flatExtracting(TestSink.Received::rcpts).doesNotHaveDuplicates();
        for (long id : ids) {
            assertThat(journal.awaitFinal(id, WAIT)).isTrue();
            assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
        }
        assertThat(sink.connections.get()).isEqualTo(1);
        // A transaction after another one in the same batch starts with RSET; nothing else here needs one.
        assertThat(sink.rsets.get()).isPositive();
    }

    @Test
    void journalsTheOutcomesOfABatchInOneRecord() throws Exception {
        List<Long> ids = startWithThirtyQueuedBehindASlowFirstTransaction();

        for (long id : ids) {
            assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        }

        assertThat(journal.outcomes()).hasSize(30);
        assertThat(journal.records()).isLessThan(30);
    }

    @Test
    void reusesACachedIdleConnectionForLaterMail() throws Exception {
        start(settings());
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(sink.next(WAIT)).isNotNull();
        Thread.sleep(300); // the worker has finished and left the connection idle in the cache

        journal.submit("a@sender.test", List.of("c@rcpt.test"), MESSAGE);

        assertThat(sink.next(WAIT)).isNotNull();
        assertThat(sink.connections.get()).isEqualTo(1);
    }

    @Test
    void opensANewConnectionAfterMaxMessagesPerConnection() throws Exception {
        start(settings().withLimits(new DeliverySettings.Limits(1, 2, 0, 0), Map.of()));
        for (int i = 0; i < 4; i++) {
            journal.submit("a@sender.test", List.of("b" + i + "@rcpt.test"), MESSAGE);
        }

        assertThat(sink.take(4, WAIT)).hasSize(4);

        assertThat(sink.connections.get()).isEqualTo(2);
    }

    @Test
    void closesIdleConnectionsAfterTheIdleTimeout() throws Exception {
        start(settings().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(200)));
        journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(sink.next(WAIT)).isNotNull();

        long end = System.nanoTime() + WAIT.toNanos();
        while (sink.open.get() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }

        assertThat(sink.open.get()).isZero();
        assertThat(sink.commands).contains("QUIT");
    }

    @Test
    void deleteJournalsDeletedForOpenRecipients() throws Exception {
        sink.rcptReply = a -> "451 4.3.0 try later";
        start(settings().withRetries(List.of(Duration.ofHours(1)), Duration.ofDays(5)));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        int deleted = engine.delete(id);

        assertThat(deleted).isEqualTo(1);
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELETED);
        assertThat(journal.pending()).isEmpty();
    }

    @Test
    void flushRetriesDeferredMailNow() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        sink.rcptReply = a -> calls.incrementAndGet() == 1 ? "451 4.3.0 try later" : "250 2.1.5 ok";
        start(settings().withRetries(List.of(Duration.ofHours(1)), Duration.ofDays(5)));
        long id = journal.submit("a@sender.test", List.of("b@rcpt.test"), MESSAGE);
        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        engine.flush();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void statsCountOutcomesPerDestination() throws Exception {
        sink.rcptReply = a -> a.startsWith("ok") ? "250 2.1.5 ok" : "550 5.1.1 no";
        start(settings());
        long id = journal.submit("", List.of("ok@rcpt.test", "no@rcpt.test"), MESSAGE);
        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        DestinationStats s = engine.stats().get("rcpt.test");

        assertThat(s.delivered()).isEqualTo(1);
        assertThat(s.bounced()).isEqualTo(1);
        assertThat(s.deferred()).isZero();
    }

    @Test
    void bouncesRecipientsWithoutADomainRoute() throws Exception {
        start(settings());
        long id = journal.submit("", List.of("postmaster"), MESSAGE);

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().detail()).contains("5.1.3");
    }
}

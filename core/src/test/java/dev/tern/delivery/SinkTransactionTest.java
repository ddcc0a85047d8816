package dev.tern.delivery;

import static dev.tern.delivery.PipelinedTransactionTest.codes;
import static dev.tern.delivery.PipelinedTransactionTest.envelope;
import static dev.tern.delivery.PipelinedTransactionTest.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.io.DeadlineSweeper;
import dev.tern.sink.ReceivedMessage;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SmtpSink;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pipelined transactions against the real {@code tern sink} ({@link SmtpSink}, the benchmarks' next hop) and its
 * injected faults: recipients refused by address, content refused or cut off, and a sink without CHUNKING. The real
 * sink refuses a second MAIL while a transaction is open, so these also prove RSET is sent when it is needed.
 */
class SinkTransactionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: sink\r\n\r\nhello\r\n.dot\r\n";

    private BufferPool pool;
    private DeadlineSweeper sweeper;
    private final List<SmtpSink> sinks = new ArrayList<>();
    private final List<OutboundConnection> opened = new ArrayList<>();

    @BeforeEach
    void setUp() {
        pool = new BufferPool(64 * 1024, 2, 8);
        sweeper = new DeadlineSweeper(Duration.ofMillis(50));
    }

    @AfterEach
    void tearDown() {
        opened.forEach(OutboundConnection::abort);
        sinks.forEach(SmtpSink::close);
        sweeper.close();
        assertThat(pool.outstanding()).as("pooled buffers leaked").isZero();
    }

    private SmtpSink sink(SinkSettings.Builder b) throws Exception {
        SmtpSink s = SmtpSink.start(b.listen(new HostPort("127.0.0.1", 0)).keepMessages(true).build());
        sinks.add(s);
        return s;
    }

    private OutboundConnection open(SmtpSink s) throws Exception {
        InetSocketAddress a = s.localAddress();
        OutboundConnection c = PipelinedTransactionTest.open(new HostPort(a.getAddress().getHostAddress(),
                a.getPort()), pool, sweeper);
        opened.add(c);
        return c;
    }

    @Test
    void deliversOverBdatWithNoRsetBetweenCleanTransactions() throws Exception {
        SmtpSink s = sink(SinkSettings.builder());
        OutboundConnection c = open(s);

        TransactionResult first = send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);
        TransactionResult second = send(c, envelope("a@sender.test", "c@rcpt.test", "d@rcpt.test"), MESSAGE);

        assertThat(codes(first)).containsExactly(250);
        assertThat(codes(second)).containsExactly(250, 250);
        assertThat(s.awaitMessages(2, WAIT)).isTrue();
        assertThat(s.received()).allMatch(ReceivedMessage::chunked);
        assertThat(s.received().getLast().contentText()).isEqualTo(MESSAGE);
        assertThat(s.stats().replies()).doesNotContainKey(503);
    }

    @Test
    void mapsRefusedAndTempfailedRecipientsAndDeliversToTheRest() throws Exception {
        SmtpSink s = sink(SinkSettings.builder());
        OutboundConnection c = open(s);

        TransactionResult r = send(c, envelope("a@sender.test", "reject1@rcpt.test", "ok@rcpt.test",
                "tempfail1@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(550, 250, 451);
        assertThat(s.awaitMessages(1, WAIT)).isTrue();
        assertThat(s.received().getFirst().recipients()).containsExactly("ok@rcpt.test");
    }

    @Test
    void recoversWithRsetAfterEveryRecipientWasRefused() throws Exception {
        SmtpSink s = sink(SinkSettings.builder());
        OutboundConnection c = open(s);

        TransactionResult refused = send(c, envelope("a@sender.test", "reject1@rcpt.test", "reject2@rcpt.test"),
                MESSAGE);
        TransactionResult next = send(c, envelope("a@sender.test", "ok@rcpt.test"), MESSAGE);

        assertThat(codes(refused)).containsExactly(550, 550);
        assertThat(codes(next)).containsExactly(250);
        assertThat(s.awaitMessages(1, WAIT)).isTrue();
        assertThat(s.stats().messages()).isEqualTo(1);
    }

    @Test
    void givesAcceptedRecipientsTheRefusalOfTheContentAndStaysUsable() throws Exception {
        SmtpSink s = sink(SinkSettings.builder().rejectDataRatio(1.0));
        OutboundConnection c = open(s);

        TransactionResult first = send(c, envelope("a@sender.test", "b@rcpt.test", "reject1@rcpt.test"), MESSAGE);
        TransactionResult second = send(c, envelope("a@sender.test", "c@rcpt.test"), MESSAGE);

        assertThat(first.replies()).extracting(SmtpReply::oneLine)
                .containsExactly("550 5.7.1 Message rejected (injected)", "550 5.1.1 Mailbox unavailable (injected)");
        assertThat(codes(second)).containsExactly(550);
        assertThat(c.usable()).isTrue();
    }

    @Test
    void defersWhenTheSinkDisconnectsInTheMiddleOfTheChunk() throws Exception {
        SmtpSink s = sink(SinkSettings.builder().disconnectDataRatio(1.0));
        OutboundConnection c = open(s);

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);

        assertThat(r.replies().getFirst().code()).isEqualTo(451);
        assertThat(r.replies().getFirst().enhanced()).isEqualTo("4.4.2");
        assertThat(c.usable()).isFalse();
    }

    @Test
    void usesDataWhenTheSinkDoesNotOfferChunking() throws Exception {
        SmtpSink s = sink(SinkSettings.builder().chunking(false));
        OutboundConnection c = open(s);

        TransactionResult first = send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);
        TransactionResult refused = send(c, envelope("a@sender.test", "reject1@rcpt.test"), MESSAGE);
        TransactionResult last = send(c, envelope("a@sender.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(first)).containsExactly(250);
        assertThat(codes(refused)).containsExactly(550);
        assertThat(codes(last)).containsExactly(250);
        assertThat(s.awaitMessages(2, WAIT)).isTrue();
        assertThat(s.received()).noneMatch(ReceivedMessage::chunked);
        assertThat(s.received().getFirst().contentText()).isEqualTo(MESSAGE);
    }

    @Test
    void aBatchTransactionWhoseRecipientsWereAllRefusedDoesNotSpoilTheNextOne() throws Exception {
        SmtpSink s = sink(SinkSettings.builder());
        OutboundConnection c = open(s);

        List<TransactionResult> r = c.sendAll(List.of(
                PipelinedTransactionTest.tx(envelope("a@sender.test", "reject1@rcpt.test"), MESSAGE),
                PipelinedTransactionTest.tx(envelope("a@sender.test", "ok1@rcpt.test"), MESSAGE),
                PipelinedTransactionTest.tx(envelope("a@sender.test", "ok2@rcpt.test", "tempfail1@rcpt.test"),
                        MESSAGE)));

        assertThat(r).extracting(PipelinedTransactionTest::codes)
                .containsExactly(List.of(550), List.of(250), List.of(250, 451));
        assertThat(s.awaitMessages(2, WAIT)).isTrue();
        assertThat(s.received()).extracting(ReceivedMessage::recipients)
                .containsExactly(List.of("ok1@rcpt.test"), List.of("ok2@rcpt.test"));
        assertThat(s.stats().replies()).doesNotContainKey(503);
    }

    @Test
    void defersTheWholeBatchWhenTheSinkDisconnectsInTheMiddleOfTheFirstChunk() throws Exception {
        SmtpSink s = sink(SinkSettings.builder().disconnectDataRatio(1.0));
        OutboundConnection c = open(s);

        List<TransactionResult> r = c.sendAll(List.of(
                PipelinedTransactionTest.tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                PipelinedTransactionTest.tx(envelope("a@sender.test", "two@rcpt.test"), MESSAGE)));

        assertThat(r).flatExtracting(TransactionResult::replies).extracting(SmtpReply::status)
                .containsExactly("4.4.2", "4.4.2");
        assertThat(c.usable()).isFalse();
    }
}

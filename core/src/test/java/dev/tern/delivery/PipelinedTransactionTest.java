package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.HostPort;
import dev.tern.io.DeadlineSweeper;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One outbound mail transaction against the scriptable {@link TestSink}: with PIPELINING and CHUNKING the whole
 * transaction (MAIL, RCPT..., BDAT n LAST and the content) is one write, every reply lands on the right recipient
 * whatever the peer refuses (RFC 2920, RFC 3030), RSET is sent only after a transaction that did not end cleanly, and
 * a 421 anywhere closes the connection. Without CHUNKING, MAIL RCPT DATA is one write and the content another.
 */
class PipelinedTransactionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: pipelined\r\n\r\nfirst line\r\n.dot line\r\nlast line\r\n";

    private TestSink sink;
    private BufferPool pool;
    private DeadlineSweeper sweeper;
    private final List<OutboundConnection> opened = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        sink = TestSink.start();
        sink.chunking = true;
        pool = new BufferPool(64 * 1024, 2, 8);
        sweeper = new DeadlineSweeper(Duration.ofMillis(50));
    }

    @AfterEach
    void tearDown() throws Exception {
        opened.forEach(OutboundConnection::abort);
        sweeper.close();
        sink.close();
        assertThat(pool.outstanding()).as("pooled buffers leaked").isZero();
    }

    static OutboundConnection open(HostPort hop, BufferPool pool, DeadlineSweeper sweeper) throws Exception {
        return OutboundConnection.open(hop, "tern.test", pool, sweeper, 2_000, 2_000);
    }

    private OutboundConnection open() throws Exception {
        OutboundConnection c = open(sink.hostPort(), pool, sweeper);
        opened.add(c);
        return c;
    }

    static EnvelopeRecord envelope(String sender, String... rcpts) {
        List<EnvelopeRecord.Recipient> rs = new ArrayList<>();
        for (String r : rcpts) {
            rs.add(new EnvelopeRecord.Recipient(r, 0, ""));
        }
        return new EnvelopeRecord(1, System.currentTimeMillis(), "127.0.0.1", "client.test", sender, 0,
                Envelope.BODY_UNSPECIFIED, false, Envelope.RET_UNSPECIFIED, "", rs);
    }

    /** Sends {@code content} to every recipient of {@code env}, handed out as one direct read-only piece. */
    static TransactionResult send(OutboundConnection c, EnvelopeRecord env, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        int[] all = IntStream.range(0, env.recipients().size()).toArray();
        return c.send(env, all, new byte[0], bytes.length, consumer -> {
            ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            consumer.accept(b.asReadOnlyBuffer());
        });
    }

    static List<Integer> codes(TransactionResult r) {
        return r.replies().stream().map(SmtpReply::code).toList();
    }

    /** A transaction sending {@code content} to every recipient of {@code env}. */
    static MailTransaction tx(EnvelopeRecord env, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        int[] all = IntStream.range(0, env.recipients().size()).toArray();
        return new MailTransaction(env, all, new byte[0], bytes.length, consumer -> {
            ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            consumer.accept(b.asReadOnlyBuffer());
        });
    }

    private long bdatCommands() {
        return sink.commands.stream().filter(c -> c.startsWith("BDAT")).count();
    }

    @Test
    void sendsMailRcptBdatLastAndTheContentInOneWrite() throws Exception {
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(250, 250);
        TestSink.Received got = sink.next(WAIT);
        assertThat(got.text()).isEqualTo(MESSAGE);
        assertThat(got.reads()).as("socket reads the transaction took at the server").isEqualTo(1);
        int length = MESSAGE.getBytes(StandardCharsets.UTF_8).length;
        assertThat(sink.commands).filteredOn(cmd -> cmd.startsWith("BDAT")).containsExactly("BDAT " + length + " LAST");
        assertThat(c.usable()).isTrue();
    }

    @Test
    void deliversToMoreRecipientsThanOneCommandBufferHolds() throws Exception {
        String[] rcpts = IntStream.range(0, 150).mapToObj(i -> "recipient-" + "r".repeat(40) + i + "@rcpt.test")
                .toArray(String[]::new);
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", rcpts), MESSAGE);

        assertThat(codes(r)).hasSize(150).containsOnly(250);
        assertThat(sink.next(WAIT).rcpts()).containsExactly(rcpts);
    }

    @Test
    void sendsNoRsetAfterATransactionThatEndedCleanly() throws Exception {
        OutboundConnection c = open();

        TransactionResult first = send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);
        TransactionResult second = send(c, envelope("a@sender.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(first)).containsExactly(250);
        assertThat(codes(second)).containsExactly(250);
        assertThat(sink.take(2, WAIT)).hasSize(2);
        assertThat(sink.rsets.get()).isZero();
    }

    @Test
    void keepsEachRefusedRecipientsReplyAndGivesTheOthersTheContentReply() throws Exception {
        sink.rcptReply = a -> a.startsWith("bad") ? "550 5.1.1 no such user" : "250 2.1.5 ok";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "bad1@rcpt.test", "ok@rcpt.test", "bad2@rcpt.test"),
                MESSAGE);

        assertThat(r.replies()).extracting(SmtpReply::oneLine)
                .containsExactly("550 5.1.1 no such user", "250 2.0.0 queued", "550 5.1.1 no such user");
        assertThat(sink.next(WAIT).rcpts()).containsExactly("ok@rcpt.test");
    }

    @Test
    void answersWithTheRcptRepliesWhenEveryRecipientIsRefusedAndTheServerDiscardsTheChunk() throws Exception {
        sink.rcptReply = a -> "550 5.1.1 no such user";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(r.replies()).extracting(SmtpReply::oneLine)
                .containsExactly("550 5.1.1 no such user", "550 5.1.1 no such user");
        assertThat(bdatCommands()).isEqualTo(1);
        assertThat(c.usable()).isTrue();
    }

    @Test
    void resetsBeforeTheNextTransactionAfterOneWhoseRecipientsWereAllRefused() throws Exception {
        sink.rcptReply = a -> a.startsWith("bad") ? "550 5.1.1 no such user" : "250 2.1.5 ok";
        OutboundConnection c = open();

        send(c, envelope("a@sender.test", "bad@rcpt.test"), MESSAGE);
        TransactionResult next = send(c, envelope("a@sender.test", "ok@rcpt.test"), MESSAGE);

        assertThat(codes(next)).containsExactly(250);
        assertThat(sink.rsets.get()).isEqualTo(1);
        assertThat(sink.next(WAIT).rcpts()).containsExactly("ok@rcpt.test");
    }

    @Test
    void givesEveryRecipientTheMailReplyWhenMailIsRefused() throws Exception {
        sink.mailReply = m -> "550 5.7.1 sender refused";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        // The server answered the pipelined RCPTs and BDAT with 503; those replies must not stand for the recipients.
        assertThat(r.replies()).extracting(SmtpReply::oneLine)
                .containsExactly("550 5.7.1 sender refused", "550 5.7.1 sender refused");
        assertThat(r.serviceClosing()).isFalse();
        assertThat(c.usable()).isTrue();
    }

    @Test
    void staysInStepAfterARefusedMail() throws Exception {
        sink.mailReply = m -> m.startsWith("<refused") ? "550 5.7.1 sender refused" : "250 2.1.0 ok";
        OutboundConnection c = open();

        send(c, envelope("refused@sender.test", "b@rcpt.test"), MESSAGE);
        TransactionResult next = send(c, envelope("a@sender.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(next)).containsExactly(250);
        assertThat(sink.next(WAIT).rcpts()).containsExactly("c@rcpt.test");
    }

    @Test
    void a421ToARecipientStandsForEveryReplyStillExpectedAndClosesTheConnection() throws Exception {
        sink.rcptReply = a -> a.startsWith("closing") ? "421 4.3.2 shutting down" : "250 2.1.5 ok";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "ok@rcpt.test", "closing@rcpt.test",
                "later@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(421, 421, 421);
        assertThat(r.serviceClosing()).isTrue();
        assertThat(c.usable()).isFalse();
        assertThat(sink.take(1, Duration.ofMillis(200))).isEmpty();
    }

    @Test
    void a421ToTheContentClosesTheConnection() throws Exception {
        sink.dataReply = m -> "421 4.3.2 shutting down";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(421);
        assertThat(r.serviceClosing()).isTrue();
        assertThat(c.usable()).isFalse();
    }

    @Test
    void a421ToMailAnswersForEveryRecipient() throws Exception {
        sink.mailReply = m -> "421 4.3.2 shutting down";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(421, 421);
        assertThat(r.serviceClosing()).isTrue();
    }

    @Test
    void aDisconnectInTheMiddleOfTheChunkDefersEveryAcceptedRecipient() throws Exception {
        sink.rcptReply = a -> a.startsWith("bad") ? "550 5.1.1 no such user" : "250 2.1.5 ok";
        sink.disconnectsInData.set(1);
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "ok@rcpt.test", "bad@rcpt.test"), MESSAGE);

        assertThat(r.replies().get(0).code()).isEqualTo(451);
        assertThat(r.replies().get(0).enhanced()).isEqualTo("4.4.2");
        // The refusal may or may not have been read before the connection went: either way it is not a delivery.
        assertThat(r.replies().get(1).positive()).isFalse();
        assertThat(c.usable()).isFalse();
    }

    @Test
    void sendsABodyLargerThanTheBufferInPipelinedChunksTheLastOneLast() throws Exception {
        // Bare LFs make the stored body non-canonical: it is copied through the buffer, 64 KiB per chunk.
        String big = "Subject: big\n\n" + ("y".repeat(500) + "\n").repeat(400);
        String expected = big.replace("\n", "\r\n");
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test"), big);

        assertThat(codes(r)).containsExactly(250);
        assertThat(sink.next(WAIT).text()).isEqualTo(expected);
        List<String> bdats = sink.commands.stream().filter(cmd -> cmd.startsWith("BDAT")).toList();
        assertThat(bdats).hasSizeGreaterThan(2);
        assertThat(bdats.subList(0, bdats.size() - 1)).allMatch(cmd -> cmd.equals("BDAT " + 64 * 1024));
        assertThat(bdats.getLast()).endsWith(" LAST");
    }

    @Test
    void sendsALargeCanonicalBodyAsOneLastChunkWithoutCopying() throws Exception {
        String big = "Subject: big\r\n\r\n" + ("x".repeat(500) + "\r\n").repeat(400);
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test"), big);

        assertThat(codes(r)).containsExactly(250);
        assertThat(sink.next(WAIT).text()).isEqualTo(big);
        assertThat(sink.commands).filteredOn(cmd -> cmd.startsWith("BDAT"))
                .containsExactly("BDAT " + big.length() + " LAST");
    }

    @Test
    void endsALargeCanonicalBodyWithoutFinalLineEndingInALastChunkOfItsCrlf() throws Exception {
        String big = "Subject: big\r\n\r\n" + "x".repeat(100_000);
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test"), big);

        assertThat(codes(r)).containsExactly(250);
        assertThat(sink.next(WAIT).text()).isEqualTo(big + "\r\n");
        assertThat(sink.commands).filteredOn(cmd -> cmd.startsWith("BDAT"))
                .containsExactly("BDAT " + big.length(), "BDAT 2 LAST");
    }

    @Test
    void withoutChunkingSendsMailRcptDataInOneWriteAndTheContentWithItsDotInAnother() throws Exception {
        sink.chunking = false;
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(codes(r)).containsExactly(250, 250);
        TestSink.Received got = sink.next(WAIT);
        assertThat(got.bdat()).isFalse();
        assertThat(got.text()).isEqualTo(MESSAGE);
        assertThat(got.reads()).as("one read for MAIL RCPT RCPT DATA, one for the content and its dot").isEqualTo(2);
        assertThat(sink.pipelinedBatches.get()).isEqualTo(1);
    }

    @Test
    void withoutChunkingSendsNoRsetAfterACleanTransactionButOneAfterARefusedData() throws Exception {
        sink.chunking = false;
        sink.dataReply = m -> m.rcpts().contains("refused@rcpt.test") ? "554 5.7.1 content refused" : "250 2.0.0 ok";
        OutboundConnection c = open();

        send(c, envelope("a@sender.test", "b@rcpt.test"), MESSAGE);
        send(c, envelope("a@sender.test", "c@rcpt.test"), MESSAGE);
        int rsetsAfterCleanOnes = sink.rsets.get();
        TransactionResult refused = send(c, envelope("a@sender.test", "refused@rcpt.test"), MESSAGE);
        TransactionResult last = send(c, envelope("a@sender.test", "d@rcpt.test"), MESSAGE);

        assertThat(rsetsAfterCleanOnes).isZero();
        assertThat(codes(refused)).containsExactly(554);
        assertThat(codes(last)).containsExactly(250);
        assertThat(sink.rsets.get()).isEqualTo(1);
    }

    @Test
    void withoutChunkingGivesEveryRecipientTheMailReplyWhenMailIsRefused() throws Exception {
        sink.chunking = false;
        sink.mailReply = m -> "451 4.3.0 try later";
        OutboundConnection c = open();

        TransactionResult r = send(c, envelope("a@sender.test", "b@rcpt.test", "c@rcpt.test"), MESSAGE);

        assertThat(r.replies()).extracting(SmtpReply::oneLine)
                .containsExactly("451 4.3.0 try later", "451 4.3.0 try later");
        assertThat(c.usable()).isTrue();
    }

    @Test
    void sendsSeveralTransactionsInOneWriteAndGivesEachItsOwnReplies() throws Exception {
        sink.rcptReply = a -> a.startsWith("bad") ? "550 5.1.1 no such user" : "250 2.1.5 ok";
        OutboundConnection c = open();

        List<TransactionResult> r = c.sendAll(List.of(tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "bad@rcpt.test", "two@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "three@rcpt.test"), MESSAGE)));

        assertThat(r).extracting(PipelinedTransactionTest::codes)
                .containsExactly(List.of(250), List.of(550, 250), List.of(250));
        List<TestSink.Received> got = sink.take(3, WAIT);
        assertThat(got).extracting(TestSink.Received::rcpts)
                .containsExactly(List.of("one@rcpt.test"), List.of("two@rcpt.test"), List.of("three@rcpt.test"));
        assertThat(got).allMatch(m -> m.reads() == 1 && m.text().equals(MESSAGE));
        assertThat(c.transactions()).isEqualTo(3);
        assertThat(c.usable()).isTrue();
    }

    @Test
    void aRefusedMailInABatchAnswersOnlyForItsOwnTransaction() throws Exception {
        sink.mailReply = m -> m.startsWith("<refused") ? "550 5.7.1 sender refused" : "250 2.1.0 ok";
        OutboundConnection c = open();

        List<TransactionResult> r = c.sendAll(List.of(tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                tx(envelope("refused@sender.test", "two@rcpt.test", "three@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "four@rcpt.test"), MESSAGE)));

        assertThat(r).extracting(PipelinedTransactionTest::codes)
                .containsExactly(List.of(250), List.of(550, 550), List.of(250));
        assertThat(sink.take(2, WAIT)).extracting(TestSink.Received::rcpts)
                .containsExactly(List.of("one@rcpt.test"), List.of("four@rcpt.test"));
    }

    @Test
    void a421InTheMiddleOfABatchAnswersForEveryLaterTransaction() throws Exception {
        sink.rcptReply = a -> a.startsWith("closing") ? "421 4.3.2 shutting down" : "250 2.1.5 ok";
        OutboundConnection c = open();

        List<TransactionResult> r = c.sendAll(List.of(tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "closing@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "three@rcpt.test"), MESSAGE)));

        assertThat(r).extracting(PipelinedTransactionTest::codes)
                .containsExactly(List.of(250), List.of(421), List.of(421));
        assertThat(r.get(2).serviceClosing()).isTrue();
        assertThat(c.usable()).isFalse();
        assertThat(sink.take(2, Duration.ofMillis(500))).extracting(TestSink.Received::rcpts)
                .containsExactly(List.of("one@rcpt.test"));
    }

    @Test
    void refusesAnOversizedTransactionLocallyAndSendsTheRestOfTheBatch() throws Exception {
        sink.size = 2_000;
        OutboundConnection c = open();

        List<TransactionResult> r = c.sendAll(List.of(tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                tx(envelope("a@sender.test", "big@rcpt.test"), MESSAGE + "x".repeat(3_000)),
                tx(envelope("a@sender.test", "three@rcpt.test"), MESSAGE)));

        assertThat(r).extracting(PipelinedTransactionTest::codes)
                .containsExactly(List.of(250), List.of(552), List.of(250));
        assertThat(sink.take(2, WAIT)).hasSize(2);
        assertThat(sink.commands).noneMatch(cmd -> cmd.contains("big@rcpt.test"));
    }

    @Test
    void aBodyThatCannotBeReadDefersItsTransactionAndTheLaterOnesButNotTheEarlierOnes() throws Exception {
        OutboundConnection c = open();
        MailTransaction unreadable = new MailTransaction(envelope("a@sender.test", "two@rcpt.test"), new int[] {0},
                new byte[0], 100, consumer -> {
                    throw new dev.tern.journal.JournalException("disk gone");
                });

        List<TransactionResult> r = c.sendAll(List.of(tx(envelope("a@sender.test", "one@rcpt.test"), MESSAGE),
                unreadable, tx(envelope("a@sender.test", "three@rcpt.test"), MESSAGE)));

        assertThat(r.get(0).replies()).extracting(SmtpReply::code).containsExactly(250);
        assertThat(r.get(1).replies()).extracting(SmtpReply::status).containsExactly("4.3.0");
        assertThat(r.get(2).replies()).extracting(SmtpReply::code).containsExactly(451);
        assertThat(sink.take(2, Duration.ofMillis(500))).extracting(TestSink.Received::rcpts)
                .containsExactly(List.of("one@rcpt.test"));
        assertThat(c.usable()).isFalse();
    }
}

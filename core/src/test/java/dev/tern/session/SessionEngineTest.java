package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.LineEndingPolicy;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.QueueId;
import org.junit.jupiter.api.Test;

/** Engine behaviours that a transcript cannot show: what is stored, counters, flushing, buffer ownership. */
class SessionEngineTest {
    private static final String START = "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n";

    private final MemoryJournal journal = new MemoryJournal();

    private EngineDriver driver() {
        EngineDriver d = new EngineDriver(EngineDriver.settings(), journal);
        d.greet();
        return d;
    }

    @Test
    void storesEnvelopeWithSenderRecipientsAndDsnParameters() {
        try (EngineDriver d = driver()) {
            d.send("EHLO client.example\r\n"
                    + "MAIL FROM:<alice@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef\r\n"
                    + "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net\r\n"
                    + "RCPT TO:<carol@example.net>\r\nDATA\r\n");
            d.send("hi\r\n.\r\n");
        }
        EnvelopeRecord e = journal.stored().get(0).envelope();
        assertThat(e.sender()).isEqualTo("alice@example.org");
        assertThat(e.helo()).isEqualTo("client.example");
        assertThat(e.client()).isEqualTo("192.0.2.7");
        assertThat(e.size()).isEqualTo(100);
        assertThat(e.body()).isEqualTo(Envelope.BODY_8BITMIME);
        assertThat(e.ret()).isEqualTo(Envelope.RET_HDRS);
        assertThat(e.envid()).isEqualTo("abc+2Bdef");
        assertThat(e.recipients()).extracting(EnvelopeRecord.Recipient::address)
                .containsExactly("bob@example.net", "carol@example.net");
        assertThat(e.recipients().get(0).notifyFlags()).isEqualTo(Envelope.NOTIFY_SUCCESS | Envelope.NOTIFY_FAILURE);
        assertThat(e.recipients().get(0).orcpt()).isEqualTo("rfc822;bob@example.net");
        assertThat(e.recipients().get(1).notifyFlags()).isZero();
    }

    @Test
    void queueIdInReplyMatchesStoredEnvelope() {
        String reply;
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            reply = d.send("hi\r\n.\r\n");
        }
        long id = journal.stored().get(0).envelope().queueId();
        assertThat(reply).isEqualTo("250 2.0.0 Ok: queued as " + QueueId.format(id) + "\r\n");
    }

    @Test
    void receivedHeaderComesFirstWithForClauseForOneRecipient() {
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            d.send("Subject: x\r\n\r\nhello\r\n.\r\n");
        }
        MemoryJournal.Stored s = journal.stored().get(0);
        String id = QueueId.format(s.envelope().queueId());
        assertThat(s.bodyText()).matches("(?s)Received: from client\\.example \\(\\[192\\.0\\.2\\.7]\\)\r\n"
                + "\tby tern\\.test \\(Tern\\) with ESMTP id " + id + "\r\n"
                + "\tfor <bob@example\\.net>; \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\r\n"
                + "Subject: x\r\n\r\nhello\r\n");
    }

    @Test
    void receivedHeaderOmitsForClauseWithSeveralRecipients() {
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n");
            d.send("hello\r\n.\r\n");
        }
        String text = journal.stored().get(0).bodyText();
        assertThat(text).startsWith("Received: from client.example").doesNotContain("for <");
    }

    @Test
    void receivedHeaderSaysSmtpAfterHelo() {
        try (EngineDriver d = driver()) {
            d.send("HELO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            d.send("hello\r\n.\r\n");
        }
        assertThat(journal.stored().get(0).bodyText()).contains("(Tern) with SMTP id ");
    }

    @Test
    void receivedHeaderSaysUtf8smtpForSmtputf8Transaction() {
        try (EngineDriver d = driver()) {
            d.send("EHLO client.example\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\n"
                    + "RCPT TO:<b@example.net>\r\nDATA\r\n");
            d.send("hello\r\n.\r\n");
        }
        assertThat(journal.stored().get(0).bodyText()).contains("(Tern) with UTF8SMTP id ");
        assertThat(journal.stored().get(0).envelope().smtputf8()).isTrue();
    }

    @Test
    void dotStuffedLinesAreStoredUnstuffed() {
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            d.send("..leading dot\r\n...\r\nend\r\n.\r\n");
        }
        assertThat(journal.stored().get(0).bodyText()).endsWith("\r\n.leading dot\r\n..\r\nend\r\n");
    }

    @Test
    void bdatContentIsStoredAsSentAcrossChunks() {
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nBDAT 8\r\n..a\r\nb\r\nBDAT 6 LAST\r\nc\r\nd\r\n");
        }
        assertThat(journal.stored().get(0).bodyText()).endsWith("\r\n..a\r\nb\r\nc\r\nd\r\n");
    }

    @Test
    void refusedBdatChunkIsSkippedNotExecuted() {
        String reply;
        try (EngineDriver d = driver()) {
            d.send("EHLO client.example\r\n");
            reply = d.send("BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n");
            assertThat(d.closed()).as("QUIT inside the chunk must not be executed").isFalse();
        }
        assertThat(reply).isEqualTo("503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n");
    }

    @Test
    void rcptWithUtf8AddressNeedsSmtputf8() {
        String reply;
        try (EngineDriver d = driver()) {
            d.send(START);
            reply = d.send("RCPT TO:<j\u00c3\u00b6rg@example.net>\r\n");
        }
        assertThat(reply).startsWith("553 5.6.7");
    }

    @Test
    void bareLfInContentIsNormalizedUnderNormalizePolicy() {
        EngineDriver d = new EngineDriver(TestConfigs.withPolicy(EngineDriver.settings(), LineEndingPolicy.NORMALIZE),
                journal);
        d.greet();
        String reply;
        try (d) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            reply = d.send("one\ntwo\r\n.\r\n");
        }
        assertThat(reply).startsWith("250 2.0.0 Ok: queued as");
        assertThat(journal.stored().get(0).bodyText()).endsWith("\r\none\r\ntwo\r\n");
    }

    @Test
    void journalFailureIs451AndNotStored() {
        journal.failCommits(true);
        String reply;
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            reply = d.send("hi\r\n.\r\n");
            assertThat(d.counters.snapshot().rejections(RejectReason.LOCAL_ERROR)).isEqualTo(1);
        }
        assertThat(reply).isEqualTo("451 4.3.0 Local error in processing, try again later\r\n");
        assertThat(journal.stored()).isEmpty();
    }

    @Test
    void exhaustedBodyPoolIs4xxAfterTheEndAndSessionContinues() {
        BufferPool tiny = new BufferPool(1024, 2, 0);
        EngineDriver d = new EngineDriver(EngineDriver.settings(), journal, tiny, true);
        d.greet();
        String reply;
        String after;
        try (d) {
            d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
            reply = d.send("x".repeat(98) + "\r\n" + ("y".repeat(98) + "\r\n").repeat(40) + ".\r\n");
            after = d.send("NOOP\r\n");
        }
        assertThat(reply).isEqualTo("452 4.3.1 Insufficient system storage\r\n");
        assertThat(after).isEqualTo("250 2.0.0 Ok\r\n");
        assertThat(journal.stored()).isEmpty();
        assertThat(tiny.outstanding()).isZero();
    }

    @Test
    void exhaustedBodyPoolBeforeDataRefusesWithout354() {
        BufferPool none = new BufferPool(1024, 0, 0);
        EngineDriver d = new EngineDriver(EngineDriver.settings(), journal, none, true);
        d.greet();
        String reply;
        try (d) {
            reply = d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
        }
        assertThat(reply).endsWith("250 2.1.5 Recipient ok\r\n452 4.3.1 Insufficient system storage\r\n");
    }

    @Test
    void pipelinedBatchIsAnsweredInOneWriteUpTo354() {
        try (EngineDriver d = driver()) {
            int before = d.flushes();
            d.send(START + "RCPT TO:<b1@example.net>\r\nRCPT TO:<b2@example.net>\r\nDATA\r\n");
            assertThat(d.flushes() - before).isEqualTo(1);
        }
    }

    @Test
    void repliesBeforeTheCommitAreFlushedFirst() {
        try (EngineDriver d = driver()) {
            d.send(START + "RCPT TO:<b1@example.net>\r\nDATA\r\n");
            int before = d.flushes();
            String reply = d.send("hi\r\n.\r\nNOOP\r\n");
            assertThat(reply).matches("250 2\\.0\\.0 Ok: queued as [0-9A-F]{16}\r\n250 2\\.0\\.0 Ok\r\n");
            assertThat(d.flushes() - before).isEqualTo(1);
        }
    }

    @Test
    void untrustedClientIsDeniedRelayAndCounted() {
        EngineDriver d = new EngineDriver(EngineDriver.settings(), journal, new BufferPool(1024, 4, 0), false);
        d.greet();
        String reply;
        try (d) {
            d.send(START);
            reply = d.send("RCPT TO:<bob@example.net>\r\n");
            assertThat(d.counters.snapshot().rejections(RejectReason.RELAY_DENIED)).isEqualTo(1);
        }
        assertThat(reply).isEqualTo("554 5.7.1 Relay access denied\r\n");
    }

    @Test
    void bodyBuffersReturnWhenClientVanishesMidData() {
        BufferPool pool = new BufferPool(1024, 8, 0);
        EngineDriver d = new EngineDriver(EngineDriver.settings(), journal, pool, true);
        d.greet();
        d.send(START + "RCPT TO:<bob@example.net>\r\nDATA\r\n");
        d.send("partial\r\n".repeat(200));
        assertThat(pool.outstanding()).isPositive();
        d.engine.disconnected();
        d.close();
        assertThat(pool.outstanding()).isZero();
        assertThat(journal.stored()).isEmpty();
    }
}

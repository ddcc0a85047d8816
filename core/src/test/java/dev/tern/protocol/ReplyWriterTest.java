package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplyWriterTest {
    private static final byte[] HOST = TestBytes.utf8("mx.tern.example");
    private final ByteBuffer out = ByteBuffer.allocateDirect(4096);
    private final ReplyWriter writer = new ReplyWriter(out);

    private String written() {
        return new String(TestBytes.written(out), StandardCharsets.US_ASCII);
    }

    @Test
    void greetingNamesHostAndEsmtp() {
        writer.writeGreeting(HOST);
        assertThat(written()).isEqualTo("220 mx.tern.example ESMTP Tern\r\n");
    }

    @Test
    void heloReplyIsHostname() {
        writer.writeHelo(HOST);
        assertThat(written()).isEqualTo("250 mx.tern.example\r\n");
    }

    @Test
    void ehloAdvertisesExtensionsAndEchoesClient() {
        ByteBuffer in = ByteBuffer.wrap(TestBytes.utf8("EHLO client.example"));
        writer.writeEhlo(HOST, in, 5, in.limit(), 52428800, false);
        assertThat(written()).isEqualTo("250-mx.tern.example Hello client.example\r\n"
                + "250-PIPELINING\r\n"
                + "250-SIZE 52428800\r\n"
                + "250-8BITMIME\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n"
                + "250-CHUNKING\r\n"
                + "250-SMTPUTF8\r\n"
                + "250 DSN\r\n");
    }

    @Test
    void ehloCanAdvertiseStarttls() {
        writer.writeEhlo(HOST, 0, true);
        assertThat(written()).contains("250-STARTTLS\r\n").contains("250-SIZE 0\r\n").doesNotContain("Hello");
    }

    @Test
    void ehloEchoEscapesNonPrintableClientInput() {
        ByteBuffer in = ByteBuffer.wrap(TestBytes.latin1("bad\u001b[2J\u00ff"));
        writer.writeEhlo(HOST, in, 0, in.limit(), 1, false);
        assertThat(written()).startsWith("250-mx.tern.example Hello bad?[2J?\r\n");
    }

    @Test
    void ehloEchoIsTruncatedTo255Octets() {
        ByteBuffer in = ByteBuffer.wrap(TestBytes.utf8("c".repeat(600)));
        writer.writeEhlo(HOST, in, 0, in.limit(), Long.MAX_VALUE, false);
        String first = written().substring(0, written().indexOf("\r\n"));
        assertThat(first).isEqualTo("250-mx.tern.example Hello " + "c".repeat(255));
        assertThat(written()).contains("250-SIZE 9223372036854775807\r\n");
    }

    @Test
    void queuedReplyCarriesSixteenHexDigits() {
        writer.enhancedCodes(true);
        writer.writeQueued(0x0193A4F2C81B0007L);
        assertThat(written()).isEqualTo("250 2.0.0 Ok: queued as 0193A4F2C81B0007\r\n");
    }

    @Test
    void queuedReplyWithoutEnhancedCodeAfterHelo() {
        writer.writeQueued(0xFFL);
        assertThat(written()).isEqualTo("250 Ok: queued as 00000000000000FF\r\n");
    }

    @Test
    void batchAccumulatesUntilFlushed() {
        writer.enhancedCodes(true);
        writer.write(Replies.SENDER_OK);
        writer.write(Replies.RCPT_OK);
        writer.write(Replies.START_DATA);
        assertThat(written()).isEqualTo("250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                + "354 End data with <CR><LF>.<CR><LF>\r\n");
        assertThat(writer.pending()).isEqualTo(out.position());
    }

    @Test
    void enhancedCodesFollowTheFlag() {
        writer.write(Replies.OK);
        writer.enhancedCodes(true);
        writer.write(Replies.OK);
        assertThat(written()).isEqualTo("250 Ok\r\n250 2.0.0 Ok\r\n");
        assertThat(writer.enhancedCodes()).isTrue();
    }

    @Test
    void mustFlushWhenLessThanMaxReplyLengthLeft() {
        ByteBuffer small = ByteBuffer.allocate(ReplyWriter.MAX_REPLY_LENGTH + 10);
        ReplyWriter w = new ReplyWriter().target(small);
        assertThat(w.mustFlush()).isFalse();
        w.write(Replies.OK);
        w.write(Replies.OK);
        assertThat(w.mustFlush()).isTrue();
        assertThat(w.buffer()).isSameAs(small);
    }

    @Test
    void writeThatDoesNotFitThrowsWithoutPartialOutput() {
        ByteBuffer tiny = ByteBuffer.allocate(20);
        ReplyWriter w = new ReplyWriter(tiny);
        assertThatThrownBy(() -> w.writeEhlo(HOST, 10, false)).isInstanceOf(BufferOverflowException.class);
        assertThat(tiny.position()).isZero();
    }

    @Test
    void worstCaseEhloFitsInMaxReplyLength() {
        ByteBuffer in = ByteBuffer.wrap(TestBytes.utf8("c".repeat(255)));
        ByteBuffer exact = ByteBuffer.allocate(ReplyWriter.MAX_REPLY_LENGTH);
        new ReplyWriter(exact).writeEhlo(TestBytes.utf8("h".repeat(255)), in, 0, 255, Long.MAX_VALUE, true);
        assertThat(exact.position()).isLessThanOrEqualTo(ReplyWriter.MAX_REPLY_LENGTH);
    }

    @Test
    void rejectsEmptyHostname() {
        assertThatThrownBy(() -> writer.writeGreeting(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplyReaderTest {

    private static ReplyReader reader(String s) {
        return new ReplyReader(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void readsAMultiLineReply() throws IOException {
        SmtpReply r = reader("250-mx.test hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n").read();
        assertThat(r.code()).isEqualTo(250);
        assertThat(r.lines()).containsExactly("mx.test hello", "PIPELINING", "SIZE 1000");
    }

    @Test
    void parsesTheEnhancedStatusCode() throws IOException {
        SmtpReply r = reader("550 5.1.1 <x@y>: no such user\r\n").read();
        assertThat(r.enhanced()).isEqualTo("5.1.1");
        assertThat(r.status()).isEqualTo("5.1.1");
        assertThat(r.permanentFailure()).isTrue();
    }

    @Test
    void ignoresAnEnhancedCodeOfTheWrongClass() throws IOException {
        SmtpReply r = reader("451 5.1.1 odd\r\n").read();
        assertThat(r.enhanced()).isEmpty();
        assertThat(r.status()).isEqualTo("4.0.0");
    }

    @Test
    void readsConsecutiveReplies() throws IOException {
        ReplyReader rr = reader("250 ok\r\n354 go\r\n");
        assertThat(rr.read().code()).isEqualTo(250);
        assertThat(rr.read().code()).isEqualTo(354);
    }

    @Test
    void acceptsACodeWithoutText() throws IOException {
        assertThat(reader("250\r\n").read().lines()).containsExactly("");
    }

    @Test
    void rejectsAChangingCodeInsideAMultiLineReply() {
        assertThatThrownBy(() -> reader("250-a\r\n550 b\r\n").read()).isInstanceOf(IOException.class);
    }

    @Test
    void rejectsALineWithoutACode() {
        assertThatThrownBy(() -> reader("hello\r\n").read()).isInstanceOf(IOException.class);
    }

    @Test
    void rejectsAnOverlongLine() {
        assertThatThrownBy(() -> reader("250 " + "x".repeat(ReplyReader.MAX_LINE) + "\r\n").read())
                .isInstanceOf(IOException.class);
    }

    @Test
    void failsOnEndOfStream() {
        assertThatThrownBy(() -> reader("250-more coming\r\n").read()).isInstanceOf(IOException.class);
    }

    @Test
    void oneLineStripsControlCharacters() {
        SmtpReply r = SmtpReply.local(550, "5.0.0", "bad\u0007text");
        assertThat(r.oneLine()).isEqualTo("550 5.0.0 bad?text");
    }

    @Test
    void parsesEhloCapabilities() throws IOException {
        SmtpReply r = reader("250-mx\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-chunking\r\n250-DSN\r\n"
                + "250 8BITMIME\r\n").read();
        EhloCapabilities c = EhloCapabilities.parse(r);
        assertThat(c.pipelining()).isTrue();
        assertThat(c.maxSize()).isEqualTo(1000);
        assertThat(c.chunking()).isTrue();
        assertThat(c.dsn()).isTrue();
        assertThat(c.eightBitMime()).isTrue();
        assertThat(c.smtputf8()).isFalse();
        assertThat(c.starttls()).isFalse();
        assertThat(EhloCapabilities.parse(reader("250-mx\r\n250-starttls\r\n250 PIPELINING\r\n").read())
                .starttls()).isTrue();
    }

    @Test
    void answersARepeatedOneLineReplyWithTheReplyAlreadyParsed() throws IOException {
        ReplyReader r = reader("250 2.1.0 Ok\r\n250 2.0.0 Ok: queued as A1\r\n250 2.1.0 Ok\r\n250 2.1.0 Ok.\r\n");

        SmtpReply first = r.read();
        SmtpReply queued = r.read();
        SmtpReply again = r.read();
        SmtpReply other = r.read();

        assertThat(again).isSameAs(first);
        assertThat(queued.oneLine()).isEqualTo("250 2.0.0 Ok: queued as A1");
        assertThat(other).isNotSameAs(first);
        assertThat(other.lines()).containsExactly("2.1.0 Ok.");
    }

    @Test
    void keepsARepeatedReplyWhileUniqueRepliesComeAndGo() throws IOException {
        StringBuilder in = new StringBuilder("250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
        for (int i = 0; i < 20; i++) {
            in.append("250 2.0.0 Ok: queued as ").append(i).append("\r\n");
        }
        in.append("250 2.1.5 Ok\r\n");
        ReplyReader r = reader(in.toString());

        SmtpReply first = r.read();
        r.read();
        for (int i = 0; i < 20; i++) {
            assertThat(r.read().oneLine()).isEqualTo("250 2.0.0 Ok: queued as " + i);
        }

        assertThat(r.read()).isSameAs(first);
    }
}

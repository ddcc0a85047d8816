package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReplyTest {
    private static String written(Reply r, boolean enhanced) {
        ByteBuffer out = ByteBuffer.allocate(1024);
        r.writeTo(out, enhanced);
        return new String(TestBytes.written(out), StandardCharsets.US_ASCII);
    }

    @Test
    void singleLineWithEnhancedCode() {
        assertThat(written(Reply.of(250, "2.1.0", "Sender ok"), true)).isEqualTo("250 2.1.0 Sender ok\r\n");
    }

    @Test
    void singleLineWithoutEnhancedCodeAfterHelo() {
        assertThat(written(Reply.of(250, "2.1.0", "Sender ok"), false)).isEqualTo("250 Sender ok\r\n");
    }

    @Test
    void replyWithoutEnhancedCodeIsSameInBothForms() {
        Reply r = Reply.of(354, null, "Go ahead");
        assertThat(written(r, true)).isEqualTo("354 Go ahead\r\n").isEqualTo(written(r, false));
    }

    @Test
    void multilineUsesHyphenOnAllButLastLine() {
        Reply r = Reply.multiline(214, "2.0.0", "one", "two", "three");
        assertThat(written(r, true)).isEqualTo("214-2.0.0 one\r\n214-2.0.0 two\r\n214 2.0.0 three\r\n");
        assertThat(written(r, false)).isEqualTo("214-one\r\n214-two\r\n214 three\r\n");
    }

    @Test
    void lengthMatchesWrittenOctets() {
        Reply r = Replies.VRFY_CANNOT;
        assertThat(r.length(true)).isEqualTo(written(r, true).length());
        assertThat(r.length(false)).isEqualTo(written(r, false).length());
    }

    @Test
    void writeToFullBufferThrowsAndWritesNothing() {
        ByteBuffer out = ByteBuffer.allocate(5);
        assertThatThrownBy(() -> Replies.OK.writeTo(out, true)).isInstanceOf(BufferOverflowException.class);
        assertThat(out.position()).isZero();
    }

    @Test
    void classifiesTransientAndPermanent() {
        assertThat(Replies.LOCAL_ERROR.transientFailure()).isTrue();
        assertThat(Replies.SYNTAX.permanentFailure()).isTrue();
        assertThat(Replies.OK.transientFailure()).isFalse();
    }

    @Test
    void rejectsCodeOutsideRange() {
        assertThatThrownBy(() -> Reply.of(199, null, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.of(600, null, "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsEnhancedCodeOfWrongClass() {
        assertThatThrownBy(() -> Reply.of(550, "4.0.0", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.of(550, "5.0", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.of(550, "5.a.0", "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsCrLfInTextSoRepliesCannotBeInjected() {
        assertThatThrownBy(() -> Reply.of(250, null, "ok\r\n250 injected"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsLineOver512Octets() {
        assertThatThrownBy(() -> Reply.of(250, null, "x".repeat(510))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bytesIsADefensiveCopy() {
        byte[] b = Replies.OK.bytes(true);
        b[0] = 'X';
        assertThat(written(Replies.OK, true)).startsWith("250");
    }
}

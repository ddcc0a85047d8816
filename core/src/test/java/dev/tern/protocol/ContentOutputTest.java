package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ContentOutputTest {
    @Test
    void heldOctetsAreWrittenBeforeAnythingElse() {
        ContentOutput o = new ContentOutput(100, 1000);
        ByteBuffer full = ByteBuffer.allocate(1);
        o.write((byte) 'a', full);
        o.write((byte) 'b', full);
        assertThat(o.holding()).isTrue();
        ByteBuffer next = ByteBuffer.allocate(4);
        assertThat(o.flushHeld(next)).isTrue();
        o.write((byte) 'c', next);
        assertThat(new String(next.array(), 0, next.position(), StandardCharsets.US_ASCII))
                .isEqualTo("bc");
    }

    @Test
    void refusedContentIsCountedButNotWritten() {
        ContentOutput o = new ContentOutput(2, 1000);
        ByteBuffer out = ByteBuffer.allocate(8);
        for (byte b : latin1("abcd")) {
            o.count(1);
            o.write(b, out);
        }
        assertThat(o.tooBig()).isTrue();
        assertThat(o.contentLength()).isEqualTo(4);
        assertThat(out.position()).isEqualTo(2);
    }

    @Test
    void badLineEndingOutranksSizeAndLineLength() {
        ContentOutput o = new ContentOutput(1, 3);
        o.count(5);
        o.checkLine(10);
        o.refuseBadLineEnding();
        assertThat(o.refusal()).isEqualTo(ContentRefusal.BAD_LINE_ENDING);
        assertThat(o.refusal().reply()).isSameAs(Replies.MSG_BAD_LINE_ENDING);
    }

    @Test
    void dataAndBdatRefuseABareLfForTheSameReason() {
        byte[] content = latin1("abc\ndef\r\n");
        DataDecoder data = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        data.decode(ByteBuffer.wrap(latin1("abc\ndef\r\n.\r\n")), ByteBuffer.allocate(64));
        BdatDecoder bdat = new BdatDecoder(1000, 1000, LineEndingPolicy.REJECT);
        bdat.startChunk(content.length);
        bdat.decode(ByteBuffer.wrap(content), ByteBuffer.allocate(64));
        assertThat(data.refusal()).isEqualTo(ContentRefusal.BAD_LINE_ENDING);
        assertThat(bdat.refusal()).isEqualTo(data.refusal());
    }
}

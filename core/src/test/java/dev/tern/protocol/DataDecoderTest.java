package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DataDecoderTest {
    private static Decoding.Result reject(String input) {
        return Decoding.data(latin1(input), LineEndingPolicy.REJECT);
    }

    @Test
    void endsAtCrlfDotCrlfAndKeepsLastLineCrlf() {
        Decoding.Result r = reject("Subject: hi\r\n\r\nbody\r\n.\r\n");
        assertThat(r.ended()).isTrue();
        assertThat(r.text()).isEqualTo("Subject: hi\r\n\r\nbody\r\n");
        assertThat(r.contentLength()).isEqualTo(r.content().length);
    }

    @Test
    void emptyMessageIsJustDotCrlf() {
        Decoding.Result r = reject(".\r\n");
        assertThat(r.ended()).isTrue();
        assertThat(r.content()).isEmpty();
    }

    @Test
    void leavesPipelinedCommandAfterTerminatorInInput() {
        byte[] input = latin1("a\r\n.\r\nQUIT\r\n");
        DataDecoder d = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        ByteBuffer in = ByteBuffer.wrap(input);
        ByteBuffer out = ByteBuffer.allocate(100);
        assertThat(d.decode(in, out)).isEqualTo(DataDecoder.END);
        assertThat(in.position()).isEqualTo(6);
        assertThat(TestBytes.string(in, in.position(), in.limit())).isEqualTo("QUIT\r\n");
    }

    @Test
    void unstuffsLeadingDot() {
        assertThat(reject("..hidden\r\n...two\r\n.\r\n").text()).isEqualTo(".hidden\r\n..two\r\n");
    }

    @Test
    void removesLeadingDotBeforeOtherText() {
        // RFC 5321 4.5.2: a leading dot followed by other characters is deleted, stuffed or not.
        assertThat(reject(".x\r\n.\r\n").text()).isEqualTo("x\r\n");
    }

    @Test
    void dotInsideLineIsContent() {
        assertThat(reject("a.b\r\n a .\r\n.\r\n").text()).isEqualTo("a.b\r\n a .\r\n");
    }

    @Test
    void needInputWhenTerminatorNotYetSeen() {
        DataDecoder d = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        ByteBuffer in = ByteBuffer.wrap(latin1("line\r\n."));
        assertThat(d.decode(in, ByteBuffer.allocate(100))).isEqualTo(DataDecoder.NEED_INPUT);
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void outputFullFillsBufferCompletelyAndLosesNothing() {
        DataDecoder d = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        ByteBuffer in = ByteBuffer.wrap(latin1("abcdefgh\r\n.\r\n"));
        ByteBuffer out = ByteBuffer.allocate(4);
        assertThat(d.decode(in, out)).isEqualTo(DataDecoder.OUTPUT_FULL);
        assertThat(out.hasRemaining()).isFalse();
        StringBuilder got = new StringBuilder(new String(TestBytes.written(out), US_ASCII));
        int status = DataDecoder.OUTPUT_FULL;
        for (int i = 0; i < 10 && status == DataDecoder.OUTPUT_FULL; i++) {
            out.clear();
            status = d.decode(in, out);
            got.append(new String(TestBytes.written(out), US_ASCII));
        }
        assertThat(status).isEqualTo(DataDecoder.END);
        assertThat(got.toString()).isEqualTo("abcdefgh\r\n");
    }

    @Test
    void oneOctetOutputBufferStillMakesProgress() {
        Decoding.Result r = Decoding.data(latin1("ab\r\n..c\n\r\n.\r\n"), LineEndingPolicy.NORMALIZE, 1000, 1000,
                new int[0], 1);
        assertThat(r.ended()).isTrue();
        assertThat(r.text()).isEqualTo("ab\r\n.c\r\n\r\n");
    }

    @Test
    void contentOverMaxSizeSetsTooBigButStillFindsEnd() {
        Decoding.Result r = Decoding.data(latin1("0123456789\r\n0123456789\r\n.\r\nQUIT"), LineEndingPolicy.REJECT,
                15, 1000, new int[0], 1024);
        assertThat(r.ended()).isTrue();
        assertThat(r.tooBig()).isTrue();
        assertThat(r.contentLength()).isEqualTo(24);
        assertThat(r.consumed()).isEqualTo(27);
    }

    @Test
    void contentOfExactlyMaxSizeIsAccepted() {
        Decoding.Result r = Decoding.data(latin1("0123456789\r\n.\r\n"), LineEndingPolicy.REJECT, 12, 1000,
                new int[0], 1024);
        assertThat(r.tooBig()).isFalse();
        assertThat(r.text()).isEqualTo("0123456789\r\n");
    }

    @Test
    void lineOf1000OctetsIsAcceptedAnd1001Refused() {
        Decoding.Result ok = reject("x".repeat(998) + "\r\n.\r\n");
        assertThat(ok.lineTooLong()).isFalse();
        Decoding.Result tooLong = reject("x".repeat(999) + "\r\ny\r\n.\r\n");
        assertThat(tooLong.lineTooLong()).isTrue();
        assertThat(tooLong.ended()).isTrue();
    }

    @Test
    void stuffingDotCountsTowardsLineLength() {
        assertThat(reject("." + "x".repeat(997) + "\r\n.\r\n").lineTooLong()).isFalse();
        assertThat(reject("." + "x".repeat(998) + "\r\n.\r\n").lineTooLong()).isTrue();
    }

    @Test
    void rejectionReplyFollowsFlags() {
        DataDecoder d = new DataDecoder(5, 1000, LineEndingPolicy.REJECT);
        assertThat(d.refusal()).isNull();
        d.decode(ByteBuffer.wrap(latin1("abc\ndefgh\r\n.\r\n")), ByteBuffer.allocate(100));
        assertThat(d.rejected()).isTrue();
        assertThat(d.refusal()).isEqualTo(ContentRefusal.BAD_LINE_ENDING);
        d.reset();
        assertThat(d.rejected()).isFalse();
        d.decode(ByteBuffer.wrap(latin1("abcdefgh\r\n.\r\n")), ByteBuffer.allocate(100));
        assertThat(d.refusal()).isEqualTo(ContentRefusal.TOO_BIG);
    }

    @Test
    void resetAllowsNextMessage() {
        DataDecoder d = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        ByteBuffer in = ByteBuffer.wrap(latin1("one\r\n.\r\ntwo\r\n.\r\n"));
        ByteBuffer out = ByteBuffer.allocate(100);
        assertThat(d.decode(in, out)).isEqualTo(DataDecoder.END);
        d.reset();
        out.clear();
        assertThat(d.decode(in, out)).isEqualTo(DataDecoder.END);
        assertThat(TestBytes.written(out)).isEqualTo(latin1("two\r\n"));
        assertThat(d.contentLength()).isEqualTo(5);
    }

    @Test
    void binaryOctetsAndNulArePassedThrough() {
        assertThat(reject("\u0000\u00ff\u0080\r\n.\r\n").text()).isEqualTo("\u0000\u00ff\u0080\r\n");
    }

    @Test
    void worksOnDirectBuffers() {
        DataDecoder d = new DataDecoder(1000, 1000, LineEndingPolicy.REJECT);
        ByteBuffer in = TestBytes.directAfterJunk(latin1("hello world, long enough for SWAR\r\n.\r\n"), 3);
        ByteBuffer out = ByteBuffer.allocateDirect(100);
        assertThat(d.decode(in, out)).isEqualTo(DataDecoder.END);
        assertThat(TestBytes.written(out)).isEqualTo(latin1("hello world, long enough for SWAR\r\n"));
    }

    @Test
    void realTerminatorAfterBareLfEndsDataAndRefusesMessage() {
        // "body\n" then a genuine CRLF.CRLF: every RFC 5321 server sees the end here, so this is not smuggling,
        // but the bare LF still makes the message unacceptable under REJECT.
        Decoding.Result r = reject("body\n\r\n.\r\nNOOP\r\n");
        assertThat(r.ended()).isTrue();
        assertThat(r.consumed()).isEqualTo(10);
        assertThat(r.badLineEnding()).isTrue();
    }

    @Test
    void normalizeRewritesBareLineEndingsToCrlf() {
        Decoding.Result r = Decoding.data(latin1("a\nb\rc\r\r\n.\r\n"), LineEndingPolicy.NORMALIZE);
        assertThat(r.text()).isEqualTo("a\r\nb\r\nc\r\n\r\n");
        assertThat(r.badLineEnding()).isFalse();
    }

    @Test
    void rejectStopsWritingAfterBareLf() {
        Decoding.Result r = reject("ok\r\nbad\nmore\r\n.\r\n");
        assertThat(r.badLineEnding()).isTrue();
        assertThat(r.text()).isEqualTo("ok\r\nbad");
    }

    @Test
    void normalizeUnstuffsLineAfterBareLf() {
        // A client ending lines with bare LF still dot-stuffs them (RFC 5321 4.5.2); keep its content intact.
        Decoding.Result r = Decoding.data(latin1("a\n..b\r\n.\r\n"), LineEndingPolicy.NORMALIZE);
        assertThat(r.text()).isEqualTo("a\r\n.b\r\n");
    }

    @Test
    void normalizeKeepsDotLineAfterBareLfAsContent() {
        byte[] input = latin1("a\n.\r\nafter\r\n.\r\n");
        Decoding.Result r = Decoding.data(input, LineEndingPolicy.NORMALIZE);
        assertThat(r.consumed()).as("only the real CRLF.CRLF ends data").isEqualTo(input.length);
        assertThat(r.text()).isEqualTo("a\r\n.\r\nafter\r\n");
    }

    @Test
    void dotLineRightAfterNormalizedDotLineEndsData() {
        // "\n.\r\n" is content, but the CRLF it ends with is real, so the next ".CRLF" terminates.
        Decoding.Result r = Decoding.data(latin1("a\n.\r\n.\r\nNOOP"), LineEndingPolicy.NORMALIZE);
        assertThat(r.consumed()).isEqualTo(8);
        assertThat(r.text()).isEqualTo("a\r\n.\r\n");
    }
}

package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BdatDecoderTest {
    private final ByteArrayOutputStream content = new ByteArrayOutputStream();

    /** Feeds each chunk (all in one input buffer followed by "NEXT") through the decoder with a small output. */
    private BdatDecoder run(LineEndingPolicy policy, long max, String... chunks) {
        BdatDecoder d = new BdatDecoder(max, policy);
        ByteBuffer out = ByteBuffer.allocate(3);
        for (String chunk : chunks) {
            ByteBuffer in = ByteBuffer.wrap(latin1(chunk + "NEXT"));
            d.startChunk(chunk.length());
            int status = BdatDecoder.OUTPUT_FULL;
            for (int guard = 0; guard < 1000 && status == BdatDecoder.OUTPUT_FULL; guard++) {
                status = d.decode(in, out);
                drain(out);
            }
            assertThat(status).isEqualTo(BdatDecoder.CHUNK_END);
            assertThat(TestBytes.string(in, in.position(), in.limit())).isEqualTo("NEXT");
        }
        for (int guard = 0; guard < 10 && !d.finishMessage(out); guard++) {
            drain(out);
        }
        drain(out);
        return d;
    }

    private void drain(ByteBuffer out) {
        content.writeBytes(TestBytes.written(out));
        out.clear();
    }

    private String text() {
        return content.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void copiesChunksVerbatimWithoutUnstuffing() {
        BdatDecoder d = run(LineEndingPolicy.REJECT, 1000, "Subject: x\r\n\r\n", "..dots stay\r\n.\r\n");
        assertThat(text()).isEqualTo("Subject: x\r\n\r\n..dots stay\r\n.\r\n");
        assertThat(d.rejected()).isFalse();
        assertThat(d.contentLength()).isEqualTo(30);
    }

    @Test
    void finishAppendsCrlfWhenMissing() {
        run(LineEndingPolicy.REJECT, 1000, "no newline");
        assertThat(text()).isEqualTo("no newline\r\n");
    }

    @Test
    void finishAddsNothingToEmptyMessage() {
        run(LineEndingPolicy.REJECT, 1000, "");
        assertThat(text()).isEmpty();
    }

    @Test
    void crlfSplitAcrossChunksIsNotBare() {
        BdatDecoder d = run(LineEndingPolicy.REJECT, 1000, "a\r", "\nb\r\n");
        assertThat(d.badLineEnding()).isFalse();
        assertThat(text()).isEqualTo("a\r\nb\r\n");
    }

    @Test
    void bareLfIsRefusedUnderReject() {
        BdatDecoder d = run(LineEndingPolicy.REJECT, 1000, "a\nb\r\n");
        assertThat(d.badLineEnding()).isTrue();
        assertThat(d.refusal()).isEqualTo(ContentRefusal.BAD_LINE_ENDING);
    }

    @Test
    void bareCrAcrossChunkBoundaryIsRefusedUnderReject() {
        assertThat(run(LineEndingPolicy.REJECT, 1000, "a\r", "b\r\n").badLineEnding()).isTrue();
    }

    @Test
    void trailingBareCrIsRefusedUnderReject() {
        assertThat(run(LineEndingPolicy.REJECT, 1000, "a\r").badLineEnding()).isTrue();
    }

    @Test
    void normalizeRewritesBareLineEndings() {
        BdatDecoder d = run(LineEndingPolicy.NORMALIZE, 1000, "a\nb\r", "c\r\r\n", "\nend\r");
        assertThat(d.badLineEnding()).isFalse();
        assertThat(text()).isEqualTo("a\r\nb\r\nc\r\n\r\n\r\nend\r\n");
    }

    @Test
    void smugglingSequenceInBdatIsNormalizedToHarmlessContent() {
        run(LineEndingPolicy.NORMALIZE, 1000, "body\n.\nMAIL FROM:<x@y>\r\n");
        // Relayed later with DATA, the "." line gets stuffed; here it is only content with proper CRLFs.
        assertThat(text()).isEqualTo("body\r\n.\r\nMAIL FROM:<x@y>\r\n");
    }

    @Test
    void announcedSizeOverMaxIsTooBigAndChunkStillConsumed() {
        BdatDecoder d = run(LineEndingPolicy.REJECT, 10, "0123456789", "x");
        assertThat(d.tooBig()).isTrue();
        assertThat(d.refusal()).isEqualTo(ContentRefusal.TOO_BIG);
        assertThat(d.contentLength()).as("10 + 1 + final CRLF").isEqualTo(13);
    }

    @Test
    void exactlyMaxSizeIsAccepted() {
        assertThat(run(LineEndingPolicy.REJECT, 12, "0123456789\r\n").tooBig()).isFalse();
    }

    @Test
    void chunkArrivingInPiecesNeedsInput() {
        BdatDecoder d = new BdatDecoder(1000, LineEndingPolicy.REJECT);
        d.startChunk(6);
        ByteBuffer out = ByteBuffer.allocate(100);
        assertThat(d.decode(ByteBuffer.wrap(latin1("abc")), out)).isEqualTo(BdatDecoder.NEED_INPUT);
        assertThat(d.chunkRemaining()).isEqualTo(3);
        assertThat(d.decode(ByteBuffer.wrap(latin1("def")), out)).isEqualTo(BdatDecoder.CHUNK_END);
        assertThat(TestBytes.written(out)).isEqualTo(latin1("abcdef"));
    }

    @Test
    void zeroSizeChunkEndsImmediately() {
        BdatDecoder d = new BdatDecoder(1000, LineEndingPolicy.REJECT);
        d.startChunk(0);
        assertThat(d.decode(ByteBuffer.allocate(0), ByteBuffer.allocate(1))).isEqualTo(BdatDecoder.CHUNK_END);
    }

    @Test
    void startMessageClearsFlags() {
        BdatDecoder d = run(LineEndingPolicy.REJECT, 1000, "a\nb");
        d.startMessage();
        assertThat(d.rejected()).isFalse();
        assertThat(d.contentLength()).isZero();
        assertThat(d.refusal()).isNull();
    }

    @Test
    void lineOf1000OctetsIsAcceptedAnd1001RefusedAcrossChunks() {
        BdatDecoder ok = new BdatDecoder(1 << 20, 1000, LineEndingPolicy.REJECT);
        assertThat(feed(ok, "x".repeat(500), "x".repeat(498) + "\r\n")).isFalse();
        BdatDecoder tooLong = new BdatDecoder(1 << 20, 1000, LineEndingPolicy.REJECT);
        assertThat(feed(tooLong, "x".repeat(500), "x".repeat(499) + "\r\n")).isTrue();
        assertThat(tooLong.refusal()).isEqualTo(ContentRefusal.LINE_TOO_LONG);
    }

    @Test
    void lineLengthRestartsAfterEachCrlf() {
        BdatDecoder d = new BdatDecoder(1 << 20, 10, LineEndingPolicy.REJECT);
        assertThat(feed(d, "12345678\r\n12345678\r\n", "1234", "5678\r\n")).isFalse();
    }

    @Test
    void twoArgumentConstructorHasNoLineLimit() {
        BdatDecoder d = new BdatDecoder(1 << 20, LineEndingPolicy.REJECT);
        assertThat(feed(d, "y".repeat(100_000) + "\r\n")).isFalse();
        assertThat(d.maxLine()).isEqualTo(Integer.MAX_VALUE);
    }

    /** Feeds whole chunks with ample output space; returns lineTooLong(). */
    private static boolean feed(BdatDecoder d, String... chunks) {
        ByteBuffer out = ByteBuffer.allocate(1 << 18);
        for (String chunk : chunks) {
            d.startChunk(chunk.length());
            assertThat(d.decode(ByteBuffer.wrap(latin1(chunk)), out)).isEqualTo(BdatDecoder.CHUNK_END);
        }
        return d.lineTooLong();
    }
}

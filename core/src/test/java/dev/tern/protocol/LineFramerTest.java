package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class LineFramerTest {
    private final LineFramer framer = new LineFramer(16);

    private static ByteBuffer buf(String s) {
        return TestBytes.directAfterJunk(latin1(s), 3);
    }

    @Test
    void framesCrlfLineWithAbsoluteBoundsAndMovesPastCrlf() {
        ByteBuffer in = buf("NOOP\r\nQUIT\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("NOOP");
        assertThat(framer.lineStart()).isEqualTo(3);
        assertThat(in.position()).isEqualTo(9);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
    }

    @Test
    void framesEmptyLine() {
        ByteBuffer in = buf("\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(framer.lineEnd()).isEqualTo(framer.lineStart());
    }

    @Test
    void needMoreLeavesPositionUnchanged() {
        ByteBuffer in = buf("NOOP\r");
        int before = in.position();
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        assertThat(in.position()).isEqualTo(before);
    }

    @Test
    void resumesAfterCompactWithoutRescanning() {
        ByteBuffer in = ByteBuffer.allocate(32);
        in.put(latin1("NOO")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        in.compact();
        in.put(latin1("P\r\n")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("NOOP");
    }

    @Test
    void crlfSplitBetweenReadsIsOneLineEnding() {
        ByteBuffer in = ByteBuffer.allocate(32);
        in.put(latin1("RSET\r")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        in.compact();
        in.put(latin1("\n")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("RSET");
    }

    @Test
    void rejectsBareLfAndStaysInStep() {
        ByteBuffer in = buf("NOOP\nQUIT\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.BAD_LINE_ENDING);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
    }

    @Test
    void rejectsBareCrInsideLineThroughItsLf() {
        ByteBuffer in = buf("NO\rOP\r\nQUIT\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.BAD_LINE_ENDING);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
    }

    @Test
    void rejectsCrCrLf() {
        assertThat(framer.next(buf("NOOP\r\r\n"))).isEqualTo(LineFramer.BAD_LINE_ENDING);
    }

    @Test
    void rejectsNulInLine() {
        ByteBuffer in = buf("NO\0OP\r\nQUIT\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.NUL);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
    }

    @Test
    void acceptsLineOfExactlyMaxOctetsIncludingCrlf() {
        ByteBuffer in = buf("x".repeat(14) + "\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(framer.lineEnd() - framer.lineStart()).isEqualTo(14);
    }

    @Test
    void rejectsLineOneOctetOverMax() {
        ByteBuffer in = buf("x".repeat(15) + "\r\nQUIT\r\n");
        assertThat(framer.next(in)).isEqualTo(LineFramer.TOO_LONG);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
    }

    @Test
    void discardsOverLongLineAcrossReadsAndReportsOnce() {
        ByteBuffer in = ByteBuffer.allocate(16);
        in.put(latin1("y".repeat(16))).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        assertThat(framer.discarding()).isTrue();
        assertThat(in.hasRemaining()).as("discard mode consumes input").isFalse();
        for (int i = 0; i < 3; i++) {
            in.compact();
            in.put(latin1("z".repeat(16))).flip();
            assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        }
        in.compact();
        in.put(latin1("zz\r\nQUIT\r\n")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.TOO_LONG);
        assertThat(framer.next(in)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(in, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
    }

    @Test
    void fullBufferWithoutLineEndingCannotStall() {
        // Capacity == maxLine: the framer must never answer NEED_MORE with a full buffer it did not consume.
        ByteBuffer in = ByteBuffer.allocate(16);
        in.put(latin1("a".repeat(15) + "\r")).flip();
        assertThat(framer.next(in)).isEqualTo(LineFramer.NEED_MORE);
        assertThat(in.remaining()).isLessThan(in.capacity());
    }

    @Test
    void resetForgetsPartialLine() {
        ByteBuffer in = buf("MAIL FR");
        framer.next(in);
        framer.reset();
        ByteBuffer fresh = buf("QUIT\r\n");
        assertThat(framer.next(fresh)).isEqualTo(LineFramer.LINE);
        assertThat(TestBytes.string(fresh, framer.lineStart(), framer.lineEnd())).isEqualTo("QUIT");
    }

    @Test
    void statusNamesAreReadable() {
        assertThat(LineFramer.statusName(LineFramer.TOO_LONG)).isEqualTo("TOO_LONG");
        assertThat(ParseStatus.name(LineFramer.NUL)).isEqualTo("NUL");
        assertThat(ParseStatus.name(ParseStatus.BAD_PATH)).isEqualTo("BAD_PATH");
    }
}

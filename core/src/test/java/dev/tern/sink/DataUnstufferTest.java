package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class DataUnstufferTest {

    /** Decodes {@code wire} fed in pieces cut at {@code cuts}; returns content and bytes consumed. */
    private static Result decode(byte[] wire, int... cuts) {
        DataUnstuffer u = new DataUnstuffer();
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        int consumed = 0;
        int from = 0;
        int[] ends = new int[cuts.length + 1];
        System.arraycopy(cuts, 0, ends, 0, cuts.length);
        ends[cuts.length] = wire.length;
        for (int end : ends) {
            if (u.done()) {
                break;
            }
            consumed += u.feed(wire, from, end, content::write);
            from = end;
        }
        return new Result(content.toString(StandardCharsets.ISO_8859_1), consumed, u.done());
    }

    private record Result(String content, int consumed, boolean done) {
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void endsAtCrLfDotCrLfAndKeepsTheCrLfBeforeIt() {
        Result r = decode(bytes("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n"));
        assertThat(r.done()).isTrue();
        assertThat(r.content()).isEqualTo("Subject: x\r\n\r\nhello\r\n");
        assertThat(r.consumed()).isEqualTo("Subject: x\r\n\r\nhello\r\n.\r\n".length());
    }

    @Test
    void removesTheStuffedDotAtLineStart() {
        Result r = decode(bytes("..leading\r\na.b\r\n...\r\n.\r\n"));
        assertThat(r.content()).isEqualTo(".leading\r\na.b\r\n..\r\n");
    }

    @Test
    void bareLfDotLfDoesNotEndData() {
        Result r = decode(bytes("a\n.\nb\r.\rc\r\n.\r\n"));
        assertThat(r.done()).isTrue();
        assertThat(r.content()).isEqualTo("a\n.\nb\r.\rc\r\n");
    }

    @Test
    void dotCrWithoutLfKeepsTheCr() {
        Result r = decode(bytes("x\r\n.\rz\r\n.\r\n"));
        assertThat(r.content()).isEqualTo("x\r\n\rz\r\n");
    }

    @Test
    void emptyDataEndsAtOnce() {
        Result r = decode(bytes(".\r\n"));
        assertThat(r.done()).isTrue();
        assertThat(r.content()).isEmpty();
    }

    @Test
    void resultIsTheSameWhenSplitAtEveryOffset() {
        byte[] wire = bytes("H: v\r\n\r\n..a\r\n.\rb\r\nc\n.\n\r\n.\r\nNEXT");
        Result whole = decode(wire);
        for (int cut = 0; cut <= wire.length; cut++) {
            for (int cut2 = cut; cut2 <= wire.length; cut2++) {
                assertThat(decode(wire, cut, cut2)).as("cuts %d %d", cut, cut2).isEqualTo(whole);
            }
        }
    }

    @Property(tries = 300)
    void stuffingThenUnstuffingGivesTheOriginal(@ForAll @Size(max = 20) List<@StringLength(max = 12) String> lines,
                                                @ForAll @IntRange(min = 0, max = 400) int cut) {
        StringBuilder original = new StringBuilder();
        StringBuilder wire = new StringBuilder();
        for (String raw : lines) {
            // Lines of ASCII without CR/LF, with dots likely at the start.
            String line = raw.chars().map(c -> c % 3 == 0 ? '.' : 'a' + c % 26)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
            original.append(line).append("\r\n");
            wire.append(line.startsWith(".") ? "." : "").append(line).append("\r\n");
        }
        wire.append(".\r\n");
        byte[] w = bytes(wire.toString());
        Result r = decode(w, Math.min(cut, w.length));
        assertThat(r.done()).isTrue();
        assertThat(r.consumed()).isEqualTo(w.length);
        assertThat(r.content()).isEqualTo(original.toString());
    }
}

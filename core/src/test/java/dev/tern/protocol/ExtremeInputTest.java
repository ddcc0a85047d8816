package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Exim "21Nails"-style hostile input: over-long everything, overflows, floods of parameters, empty values. */
class ExtremeInputTest {
    private final CommandParser parser = new CommandParser(512);
    private final Command command = new Command();

    private int parse(String line) {
        byte[] b = latin1(line);
        return parser.parse(ByteBuffer.wrap(b).slice(), 0, b.length, command);
    }

    @Test
    void hugeMailLineIsDiscardedAndNextCommandServed() {
        LineFramer framer = new LineFramer(CommandParser.framerLimit(512));
        ByteBuffer in = ByteBuffer.allocate(CommandParser.framerLimit(512));
        String hostile = "MAIL FROM:<" + "a".repeat(64 * 1024) + "@example.org>\r\nNOOP\r\n";
        byte[] bytes = latin1(hostile);
        int fed = 0;
        int tooLong = 0;
        int lines = 0;
        in.limit(0);
        for (int guard = 0; guard < 1000 && fed < bytes.length; guard++) {
            in.compact();
            int n = Math.min(in.remaining(), bytes.length - fed);
            in.put(bytes, fed, n).flip();
            fed += n;
            int status;
            while ((status = framer.next(in)) != LineFramer.NEED_MORE) {
                if (status == LineFramer.TOO_LONG) {
                    tooLong++;
                } else if (status == LineFramer.LINE) {
                    lines++;
                    assertThat(parser.parse(in, framer.lineStart(), framer.lineEnd(), command))
                            .isEqualTo(ParseStatus.OK);
                    assertThat(command.verb()).isEqualTo(Verb.NOOP);
                }
            }
        }
        assertThat(tooLong).isEqualTo(1);
        assertThat(lines).isEqualTo(1);
    }

    @Test
    void longSourceRouteWithinPathLimitIsAccepted() {
        String route = "@r.example,".repeat(20);
        String path = "<" + route.substring(0, route.length() - 1) + ":u@example.org>";
        assertThat(path.length()).isLessThanOrEqualTo(256);
        assertThat(parse("RCPT TO:" + path)).isEqualTo(ParseStatus.OK);
        assertThat(TestBytes.string(command.buffer(), command.pathStart(), command.pathEnd()))
                .isEqualTo("u@example.org");
    }

    @Test
    void sourceRouteBeyondPathLimitIsRefused() {
        String route = "@r.example,".repeat(24);
        assertThat(parse("RCPT TO:<" + route.substring(0, route.length() - 1) + ":u@example.org>"))
                .isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void quotedLocalPartFullOfBackslashesIsBoundedBy64() {
        assertThat(parse("MAIL FROM:<\"" + "\\\\".repeat(31) + "\"@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<\"" + "\\\\".repeat(32) + "\"@example.org>")).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void quotedPairAtEndOfLineIsRefused() {
        assertThat(parse("MAIL FROM:<\"abc\\")).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void twentyDigitSizeWithLeadingZerosIsSmall() {
        assertThat(parse("MAIL FROM:<a@example.org> SIZE=00000000000000000001")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(1);
    }

    @Test
    void floodOfValidXtextEscapesInOrcptIsAccepted() {
        assertThat(parse("RCPT TO:<b@example.org> ORCPT=rfc822;" + "+2B".repeat(160))).isEqualTo(ParseStatus.OK);
    }

    @Test
    void xtextEscapeTruncatedAtEndOfValueIsRefused() {
        assertThat(parse("MAIL FROM:<a@example.org> ENVID=abc+4")).isEqualTo(ParseStatus.BAD_PARAM_VALUE);
        assertThat(parse("MAIL FROM:<a@example.org> ENVID=abc+")).isEqualTo(ParseStatus.BAD_PARAM_VALUE);
    }

    @Test
    void overLongParameterKeywordIsUnknownNotACrash() {
        assertThat(parse("MAIL FROM:<a@example.org> " + "K".repeat(500) + "=1")).isEqualTo(ParseStatus.UNKNOWN_PARAM);
    }

    @Test
    void emptyParametersBetweenSpacesAreIgnored() {
        assertThat(parse("MAIL FROM:<a@example.org>      SIZE=1      ")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(1);
    }

    @Test
    void emptyValueIsRefused() {
        assertThat(parse("RCPT TO:<b@example.org> NOTIFY= ORCPT=rfc822;b@example.org"))
                .isEqualTo(ParseStatus.BAD_PARAM_VALUE);
    }

    @Test
    void lineOfOnlyAngleBracketsIsBadPath() {
        assertThat(parse("MAIL FROM:" + "<".repeat(300))).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void ipv6LiteralWithTooManyGroupsIsRefused() {
        assertThat(parse("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>")).isEqualTo(ParseStatus.BAD_PATH);
        assertThat(parse("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7:8]>")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<a@[IPv6:1::2:3:4:5:6:7:8]>")).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void maximalBdatSizeIsTooBigForAnyMessage() {
        assertThat(parse("BDAT 999999999999999999 LAST")).isEqualTo(ParseStatus.OK);
        BdatDecoder d = new BdatDecoder(50L << 20, LineEndingPolicy.REJECT);
        d.startChunk(command.chunkSize());
        assertThat(d.tooBig()).isTrue();
    }

    @Test
    void dataLineOfAMegabyteIsFlaggedAndDecoderStaysInStep() {
        byte[] input = latin1("x".repeat(1 << 20) + "\r\n.\r\nQUIT\r\n");
        Decoding.Result r = Decoding.data(input, LineEndingPolicy.REJECT, 50L << 20, 1000, new int[] {4096}, 8192);
        assertThat(r.lineTooLong()).isTrue();
        assertThat(r.ended()).isTrue();
        assertThat(r.consumed()).isEqualTo(input.length - 6);
        assertThat(r.content().length).as("nothing written after the flag").isLessThanOrEqualTo(8192);
    }
}

package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.message.Envelope;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Field extraction and RFC 5321 4.5.3.1 limits; statuses per verb are in {@link CommandGoldenTest}. */
class CommandParserTest {
    private static final int JUNK = 7;
    private final CommandParser parser = new CommandParser(512);
    private final Command command = new Command();

    private int parse(String line) {
        byte[] bytes = TestBytes.utf8(line);
        ByteBuffer in = TestBytes.directAfterJunk(bytes, JUNK);
        return parser.parse(in, JUNK, JUNK + bytes.length, command);
    }

    private String range(int from, int to) {
        return TestBytes.string(command.buffer(), from, to);
    }

    private static String mailWithLocalPart(int length) {
        return "MAIL FROM:<" + "l".repeat(length) + "@example.org>";
    }

    /** A domain of exactly {@code length} octets made of 63-octet labels. */
    private static String domainOf(int length) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            if (!sb.isEmpty()) {
                sb.append('.');
            }
            sb.append("d".repeat(Math.min(63, length - sb.length())));
        }
        return sb.toString();
    }

    @Test
    void heloDomainIsItsArgument() {
        assertThat(parse("HELO client.example.org")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.domainStart(), command.domainEnd())).isEqualTo("client.example.org");
        assertThat(command.domainStart()).isEqualTo(JUNK + 5);
    }

    @Test
    void ehloDomainStopsAtFirstSpace() {
        assertThat(parse("EHLO  [192.0.2.1] extra")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.domainStart(), command.domainEnd())).isEqualTo("[192.0.2.1]");
    }

    @Test
    void ehloDomainLongerThan255IsSyntaxError() {
        assertThat(parse("EHLO " + "h".repeat(255))).isEqualTo(ParseStatus.OK);
        assertThat(parse("EHLO " + "h".repeat(256))).isEqualTo(ParseStatus.SYNTAX);
    }

    @Test
    void argumentRangeStartsAfterVerbAndOneSpace() {
        assertThat(parse("VRFY  bob")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.argStart(), command.argEnd())).isEqualTo(" bob");
        assertThat(command.lineStart()).isEqualTo(JUNK);
    }

    @Test
    void argumentRangeIsEmptyWithoutArgument() {
        assertThat(parse("NOOP")).isEqualTo(ParseStatus.OK);
        assertThat(command.argStart()).isEqualTo(command.argEnd());
    }

    @Test
    void mailPathExcludesAngleBrackets() {
        assertThat(parse("MAIL FROM:<alice@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.pathStart(), command.pathEnd())).isEqualTo("alice@example.org");
        assertThat(command.size()).isEqualTo(-1);
        assertThat(command.body()).isEqualTo(Envelope.BODY_UNSPECIFIED);
        assertThat(command.smtputf8()).isFalse();
        assertThat(command.ret()).isEqualTo(Envelope.RET_UNSPECIFIED);
        assertThat(command.envidEnd() - command.envidStart()).isZero();
    }

    @Test
    void nullReversePathIsEmptyRange() {
        assertThat(parse("MAIL FROM:<> SIZE=5")).isEqualTo(ParseStatus.OK);
        assertThat(command.pathEnd()).isEqualTo(command.pathStart());
        assertThat(command.size()).isEqualTo(5);
    }

    @Test
    void sourceRouteIsAcceptedAndDropped() {
        assertThat(parse("RCPT TO:<@a.example,@b.example:bob@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.pathStart(), command.pathEnd())).isEqualTo("bob@example.org");
    }

    @Test
    void quotedLocalPartIsKeptVerbatim() {
        assertThat(parse("MAIL FROM:<\"a b\\\"c\"@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.pathStart(), command.pathEnd())).isEqualTo("\"a b\\\"c\"@example.org");
    }

    @Test
    void quotedLocalPartMayContainAngleBracket() {
        assertThat(parse("MAIL FROM:<\"a>b\"@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.pathStart(), command.pathEnd())).isEqualTo("\"a>b\"@example.org");
    }

    @Test
    void allMailParametersAreExtracted() {
        assertThat(parse("MAIL FROM:<a@example.org> size=12345 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B1"))
                .isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(12345);
        assertThat(command.body()).isEqualTo(Envelope.BODY_8BITMIME);
        assertThat(command.smtputf8()).isTrue();
        assertThat(command.ret()).isEqualTo(Envelope.RET_HDRS);
        assertThat(range(command.envidStart(), command.envidEnd())).isEqualTo("QQ+2B1");
    }

    @Test
    void body7bitAndRetFullAreRecognised() {
        assertThat(parse("MAIL FROM:<a@example.org> BODY=7BIT RET=full")).isEqualTo(ParseStatus.OK);
        assertThat(command.body()).isEqualTo(Envelope.BODY_7BIT);
        assertThat(command.ret()).isEqualTo(Envelope.RET_FULL);
    }

    @Test
    void hugeSizeSaturatesInsteadOfOverflowing() {
        assertThat(parse("MAIL FROM:<a@example.org> SIZE=99999999999999999999")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(Long.MAX_VALUE);
        assertThat(parse("MAIL FROM:<a@example.org> SIZE=9223372036854775808")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(Long.MAX_VALUE);
        assertThat(parse("MAIL FROM:<a@example.org> SIZE=9223372036854775807")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(Long.MAX_VALUE);
        assertThat(parse("MAIL FROM:<a@example.org> SIZE=922337203685477580")).isEqualTo(ParseStatus.OK);
        assertThat(command.size()).isEqualTo(922337203685477580L);
    }

    @Test
    void rcptNotifyBitsAndOrcptAreExtracted() {
        assertThat(parse("RCPT TO:<bob@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.org"))
                .isEqualTo(ParseStatus.OK);
        assertThat(command.notifyFlags()).isEqualTo(Envelope.NOTIFY_FAILURE | Envelope.NOTIFY_DELAY);
        assertThat(range(command.orcptStart(), command.orcptEnd())).isEqualTo("rfc822;bob@example.org");
    }

    @Test
    void notifyNeverIsItsOwnBit() {
        assertThat(parse("RCPT TO:<bob@example.org> NOTIFY=never")).isEqualTo(ParseStatus.OK);
        assertThat(command.notifyFlags()).isEqualTo(Envelope.NOTIFY_NEVER);
    }

    @Test
    void notifyAbsentIsZero() {
        assertThat(parse("RCPT TO:<bob@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(command.notifyFlags()).isZero();
        assertThat(command.orcptEnd() - command.orcptStart()).isZero();
    }

    @Test
    void postmasterWithoutDomainIsAcceptedForRcpt() {
        assertThat(parse("RCPT TO:<PostMaster>")).isEqualTo(ParseStatus.OK);
        assertThat(range(command.pathStart(), command.pathEnd())).isEqualTo("PostMaster");
        assertThat(command.postmaster()).isTrue();
        assertThat(parse("RCPT TO:<postmaster@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(command.postmaster()).as("a postmaster with a domain is an ordinary recipient").isFalse();
        assertThat(parse("RCPT TO:<@relay.example:Postmaster>")).isEqualTo(ParseStatus.BAD_PATH);
        assertThat(parse("MAIL FROM:<Postmaster>")).isEqualTo(ParseStatus.BAD_PATH);
        assertThat(parse("RCPT TO:<postmasters@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(command.postmaster()).isFalse();
    }

    @Test
    void utf8MailboxIsFlaggedForRcpt() {
        assertThat(parse("RCPT TO:<jürgen@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(command.utf8()).isTrue();
        assertThat(parse("RCPT TO:<jurgen@example.org>")).isEqualTo(ParseStatus.OK);
        assertThat(command.utf8()).isFalse();
    }

    @Test
    void utf8MailboxNeedsSmtputf8OnMail() {
        assertThat(parse("MAIL FROM:<jürgen@bücher.example>")).isEqualTo(ParseStatus.UTF8_PATH_WITHOUT_SMTPUTF8);
        assertThat(parse("MAIL FROM:<jürgen@bücher.example> SMTPUTF8")).isEqualTo(ParseStatus.OK);
        assertThat(command.utf8()).isTrue();
    }

    @Test
    void bdatSizeAndLastAreExtracted() {
        assertThat(parse("BDAT 4096 LAST")).isEqualTo(ParseStatus.OK);
        assertThat(command.chunkSize()).isEqualTo(4096);
        assertThat(command.last()).isTrue();
        assertThat(parse("BDAT 18")).isEqualTo(ParseStatus.OK);
        assertThat(command.chunkSize()).isEqualTo(18);
        assertThat(command.last()).isFalse();
    }

    @Test
    void localPartOf64OctetsIsAcceptedAnd65Refused() {
        assertThat(parse(mailWithLocalPart(64))).isEqualTo(ParseStatus.OK);
        assertThat(parse(mailWithLocalPart(65))).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void labelOf63OctetsIsAcceptedAnd64Refused() {
        assertThat(parse("MAIL FROM:<a@" + "d".repeat(63) + ".example>")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<a@" + "d".repeat(63) + ">")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<a@" + "d".repeat(64) + ".example>")).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void pathOf256OctetsIsAcceptedAnd257Refused() {
        // "<" + 64 + "@" + domain + ">" = 256 when the domain has 189 octets.
        assertThat(parse("MAIL FROM:<" + "l".repeat(64) + "@" + domainOf(189) + ">")).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<" + "l".repeat(64) + "@" + domainOf(190) + ">"))
                .isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void domainOver255OctetsIsRefused() {
        assertThat(parse("MAIL FROM:<a@" + domainOf(256) + ">")).isEqualTo(ParseStatus.BAD_PATH);
    }

    @Test
    void plainCommandLongerThanLimitIsLineTooLong() {
        // 512 octets including CRLF: 510 in the line.
        assertThat(parse("NOOP " + "x".repeat(505))).isEqualTo(ParseStatus.OK);
        assertThat(parse("NOOP " + "x".repeat(506))).isEqualTo(ParseStatus.LINE_TOO_LONG);
        assertThat(command.verb()).isEqualTo(Verb.NOOP);
    }

    @Test
    void unknownVerbLongerThanLimitIsLineTooLong() {
        assertThat(parse("XXXX " + "x".repeat(600))).isEqualTo(ParseStatus.LINE_TOO_LONG);
    }

    @Test
    void mailGetsRfc1870Rfc3461Rfc6531Allowance() {
        assertThat(parser.maxLine(Verb.MAIL)).isEqualTo(512 + 26 + 100 + 10);
        assertThat(parser.maxLine(Verb.RCPT)).isEqualTo(512 + 500 + 10);
        assertThat(parser.maxLine(Verb.DATA)).isEqualTo(512);
        assertThat(CommandParser.framerLimit(512)).isEqualTo(parser.maxLine(Verb.RCPT));
    }

    @Test
    void mailLongerThanItsAllowanceIsLineTooLong() {
        String base = "MAIL FROM:<a@example.org> ENVID=";
        String fits = base + "x".repeat(648 - 2 - base.length());
        assertThat(parse(fits)).isEqualTo(ParseStatus.BAD_PARAM_VALUE); // ENVID > 100, but not too long a line
        assertThat(parse(fits + "x")).isEqualTo(ParseStatus.LINE_TOO_LONG);
    }

    @Test
    void rcptWithLongOrcptWithinAllowanceIsAccepted() {
        String orcpt = "rfc822;" + "o".repeat(493);
        assertThat(parse("RCPT TO:<bob@example.org> NOTIFY=SUCCESS ORCPT=" + orcpt)).isEqualTo(ParseStatus.OK);
        assertThat(range(command.orcptStart(), command.orcptEnd())).hasSize(500);
        assertThat(parse("RCPT TO:<bob@example.org> ORCPT=" + orcpt + "o")).isEqualTo(ParseStatus.BAD_PARAM_VALUE);
    }

    @Test
    void envidOf100OctetsIsAcceptedAnd101Refused() {
        assertThat(parse("MAIL FROM:<a@example.org> ENVID=" + "e".repeat(100))).isEqualTo(ParseStatus.OK);
        assertThat(parse("MAIL FROM:<a@example.org> ENVID=" + "e".repeat(101)))
                .isEqualTo(ParseStatus.BAD_PARAM_VALUE);
    }

    @Test
    void manyUnknownParametersStopAtTheFirst() {
        String params = " X=1".repeat(100);
        assertThat(parse("MAIL FROM:<a@example.org>" + params)).isEqualTo(ParseStatus.UNKNOWN_PARAM);
    }

    @Test
    void manyRepeatedKnownParametersAreRefused() {
        assertThat(parse("MAIL FROM:<a@example.org>" + " BODY=7BIT".repeat(50))).isEqualTo(ParseStatus.BAD_PARAM_VALUE);
    }

    @Test
    void verbIsReportedEvenWhenArgumentsAreBad() {
        assertThat(parse("RCPT TO:<>")).isEqualTo(ParseStatus.BAD_PATH);
        assertThat(command.verb()).isEqualTo(Verb.RCPT);
        assertThat(Replies.forStatus(ParseStatus.BAD_PATH, command.verb())).isSameAs(Replies.BAD_RCPT);
    }

    @Test
    void commandIsClearedBetweenParses() {
        parse("MAIL FROM:<a@example.org> SIZE=10 SMTPUTF8");
        parse("RSET");
        assertThat(command.verb()).isEqualTo(Verb.RSET);
        assertThat(command.size()).isEqualTo(-1);
        assertThat(command.smtputf8()).isFalse();
    }

    @Test
    void verbMatchingIgnoresBufferByteOrder() {
        byte[] bytes = TestBytes.utf8("QuIt");
        ByteBuffer le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).put(bytes).flip();
        assertThat(parser.parse(le, 0, 4, command)).isEqualTo(ParseStatus.OK);
        assertThat(command.verb()).isEqualTo(Verb.QUIT);
    }

    @Test
    void nonLettersDoNotAliasVerbsWhenCaseFolded() {
        // 0x0D|0x20 etc. must not turn into letters: only exact ASCII letters match.
        assertThat(parse("MAI\u000c")).isEqualTo(ParseStatus.UNKNOWN_VERB);
        assertThat(parse("H\u0005LO x")).isEqualTo(ParseStatus.UNKNOWN_VERB);
    }

    @Test
    void rangeOutsideBufferIsSyntaxNotException() {
        ByteBuffer in = ByteBuffer.allocate(4);
        assertThat(parser.parse(in, 0, 10, command)).isEqualTo(ParseStatus.SYNTAX);
        assertThat(parser.parse(in, 3, 1, command)).isEqualTo(ParseStatus.SYNTAX);
    }

    @Test
    void toStringEscapesControlOctets() {
        parse("MAIL FROM:<a@example.org> X=\u0001");
        assertThat(command.toString()).contains("\\x01").doesNotContain("\u0001");
    }
}

package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepliesTest {
    private static String text(Reply r) {
        return new String(r.bytes(true), StandardCharsets.US_ASCII);
    }

    static List<Reply> all() throws IllegalAccessException {
        List<Reply> replies = new ArrayList<>();
        for (Field f : Replies.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == Reply.class) {
                replies.add((Reply) f.get(null));
            }
        }
        return replies;
    }

    @ParameterizedTest(name = "{0} is {1} {2}")
    @CsvSource({
        "OK, 250, 2.0.0", "SENDER_OK, 250, 2.1.0", "RCPT_OK, 250, 2.1.5", "BYE, 221, 2.0.0",
        "VRFY_CANNOT, 252, 2.0.0", "HELP, 214, 2.0.0", "NOT_IMPLEMENTED, 502, 5.5.1",
        "UNKNOWN_COMMAND, 500, 5.5.2", "SYNTAX, 501, 5.5.4", "BAD_SEQUENCE, 503, 5.5.1",
        "PARAM_NOT_IMPLEMENTED, 504, 5.5.4", "LINE_TOO_LONG, 500, 5.5.2", "BAD_LINE_ENDING, 500, 5.5.2",
        "NUL, 500, 5.5.2", "TOO_MANY_RCPTS, 452, 4.5.3", "RELAY_DENIED, 554, 5.7.1", "SIZE_EXCEEDED, 552, 5.3.4",
        "MSG_BAD_LINE_ENDING, 550, 5.6.0", "DATA_LINE_TOO_LONG, 550, 5.6.0", "LOCAL_ERROR, 451, 4.3.0",
        "SHUTDOWN, 421, 4.3.2", "TIMEOUT, 421, 4.4.2", "TOO_MANY_ERRORS, 421, 4.7.0",
        "TOO_MANY_CONNECTIONS, 421, 4.7.0", "EARLY_TALKER, 554, 5.5.1", "NO_VALID_RCPTS, 554, 5.5.1",
        "BAD_SENDER, 501, 5.1.7", "BAD_RCPT, 501, 5.1.3", "UNKNOWN_PARAM, 555, 5.5.4",
        "UTF8_NOT_PERMITTED, 553, 5.6.7", "BAD_PARAM_VALUE, 501, 5.5.4"
    })
    void constantHasCodeAndEnhancedCode(String name, int code, String enhanced) throws Exception {
        Reply r = (Reply) Replies.class.getField(name).get(null);
        assertThat(r.code()).isEqualTo(code);
        assertThat(r.enhanced()).isEqualTo(enhanced);
        assertThat(text(r)).matches("(?s)" + code + "[ -]" + enhanced.replace(".", "\\.") + " .*\r\n");
    }

    @Test
    void startDataCarriesNoEnhancedCode() {
        // RFC 2034 3: enhanced codes go on 2xx/4xx/5xx replies; 354 is an intermediate reply.
        assertThat(text(Replies.START_DATA)).isEqualTo("354 End data with <CR><LF>.<CR><LF>\r\n");
    }

    @Test
    void everyEnhancedCodeMatchesItsReplyClass() throws Exception {
        for (Reply r : all()) {
            if (r.enhanced() != null) {
                assertThat(r.enhanced().charAt(0) - '0').as(r.toString()).isEqualTo(r.code() / 100);
            }
        }
    }

    @Test
    void localFailuresAreNeverPermanent() {
        for (Reply r : List.of(Replies.LOCAL_ERROR, Replies.INSUFFICIENT_STORAGE, Replies.SHUTDOWN, Replies.TIMEOUT,
                Replies.TOO_MANY_CONNECTIONS, Replies.TOO_MANY_RCPTS)) {
            assertThat(r.transientFailure()).as(r.toString()).isTrue();
        }
    }

    @ParameterizedTest(name = "status {0} -> {1}")
    @CsvSource({
        "1, UNKNOWN_COMMAND", "2, SYNTAX", "3, BAD_SENDER", "4, UNKNOWN_PARAM", "5, BAD_PARAM_VALUE",
        "6, LINE_TOO_LONG", "7, UTF8_NOT_PERMITTED", "102, LINE_TOO_LONG", "103, BAD_LINE_ENDING", "104, NUL"
    })
    void forStatusMapsEveryErrorStatus(int status, String reply) throws Exception {
        assertThat(Replies.forStatus(status)).isSameAs(Replies.class.getField(reply).get(null));
    }

    @Test
    void forStatusConstantsAreTheRealStatusValues() {
        assertThat(ParseStatus.UNKNOWN_VERB).isEqualTo(1);
        assertThat(ParseStatus.UTF8_PATH_WITHOUT_SMTPUTF8).isEqualTo(7);
        assertThat(LineFramer.TOO_LONG).isEqualTo(102);
        assertThat(LineFramer.NUL).isEqualTo(104);
    }

    @Test
    void badPathMapsToRecipientReplyForRcpt() {
        assertThat(Replies.forStatus(ParseStatus.BAD_PATH, Verb.RCPT)).isSameAs(Replies.BAD_RCPT);
        assertThat(Replies.forStatus(ParseStatus.BAD_PATH, Verb.MAIL)).isSameAs(Replies.BAD_SENDER);
    }

    @Test
    void statusesNeedingNoReplyMapToLocalError() {
        assertThat(Replies.forStatus(ParseStatus.OK)).isSameAs(Replies.LOCAL_ERROR);
        assertThat(Replies.forStatus(LineFramer.NEED_MORE)).isSameAs(Replies.LOCAL_ERROR);
    }
}

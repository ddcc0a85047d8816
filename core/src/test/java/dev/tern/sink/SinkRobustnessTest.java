package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.HostPort;
import java.net.Inet6Address;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class SinkRobustnessTest {
    private static SmtpSink sink;

    @BeforeContainer
    static void start() throws Exception {
        sink = SmtpSink.start(SinkSettings.defaults());
    }

    @AfterContainer
    static void stop() {
        sink.close();
    }

    /** Any command line that does not start DATA, BDAT or QUIT gets exactly one reply, and the session goes on. */
    @Property(tries = 60)
    void answersEveryJunkLineWithOneReply(@ForAll("junkLines") List<String> lines) throws Exception {
        try (SmtpTestClient c = new SmtpTestClient(sink.localAddress())) {
            c.expect(220);
            c.send(String.join("\r\n", lines) + "\r\nQUIT\r\n");
            for (String line : lines) {
                int code = c.reply().code();
                assertThat(code).as("reply to '%s'", line).isBetween(200, 599);
            }
            assertThat(c.reply().code()).isEqualTo(221);
        }
    }

    @Provide
    Arbitrary<List<String>> junkLines() {
        Arbitrary<String> verbs = Arbitraries.of("EHLO x", "HELO", "MAIL FROM:", "MAIL FROM:<a@b> SIZE=",
                "RCPT TO:", "RCPT TO:<", "RSET", "NOOP", "VRFY", "STARTTLS", "AUTH PLAIN", "", " ", "mail from:<>");
        Arbitrary<String> tails = Arbitraries.strings().withChars("abcXYZ<>:@.= -0123456789\t\u00e9").ofMaxLength(40);
        return verbs.flatMap(v -> tails.map(t -> v + t)).filter(SinkRobustnessTest::staysInCommandMode)
                .list().ofMinSize(1).ofMaxSize(12);
    }

    private static boolean staysInCommandMode(String line) {
        String l = line.toUpperCase(Locale.ROOT);
        return !(l.startsWith("DATA") || l.startsWith("BDAT") || l.startsWith("QUIT"));
    }

    @Test
    void servesOverIpv6Loopback() throws Exception {
        SmtpSink six;
        try {
            six = SmtpSink.start(SinkSettings.builder().listen(new HostPort("::1", 0)).build());
        } catch (java.io.IOException e) {
            Assumptions.abort("no IPv6 loopback here: " + e);
            return;
        }
        try (six; SmtpTestClient c = SmtpTestClient.greeted(six)) {
            assertThat(six.localAddress().getAddress()).isInstanceOf(Inet6Address.class);
            assertThat(c.command("NOOP").code()).isEqualTo(250);
        }
    }
}

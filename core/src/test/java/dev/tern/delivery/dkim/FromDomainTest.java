package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FromDomainTest {

    @Test
    void findsTheDomainOfABareAddress() {
        assertThat(domain(" alice@Example.COM\r\n")).isEqualTo("example.com");
    }

    @Test
    void prefersTheAngleBracketedAddress() {
        assertThat(domain(" \"bob@evil.test\" <alice@example.com>\r\n")).isEqualTo("example.com");
    }

    @Test
    void ignoresComments() {
        assertThat(domain(" alice@example.com (sent by x@other.test)\r\n")).isEqualTo("example.com");
    }

    @Test
    void readsAFoldedValue() {
        assertThat(domain(" Alice\r\n <alice@\r\n example.org>\r\n")).isEqualTo("example.org");
    }

    @Test
    void takesTheLastMailboxOfAList() {
        assertThat(domain(" Other <other@decoy.test>, author@example.org\r\n")).isEqualTo("example.org");
        assertThat(domain(" a@first.test, Author <author@example.org>\r\n")).isEqualTo("example.org");
        assertThat(domain(" <@relay.test,@hop.test:author@example.org>\r\n")).isEqualTo("example.org");
        assertThat(domain(" author@example.org,\r\n")).isEqualTo("example.org");
    }

    @Test
    void returnsNullWithoutAnAddress() {
        assertThat(domain(" undisclosed\r\n")).isNull();
    }

    private static String domain(String value) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        return FromDomain.extract(b, 0, b.length);
    }
}

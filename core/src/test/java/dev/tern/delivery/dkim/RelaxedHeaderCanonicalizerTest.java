package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class RelaxedHeaderCanonicalizerTest {

    @Test
    void canonicalizesTheRfc6376Examples() {
        // RFC 6376 3.4.6
        assertThat(Canon.header("A: X\r\n")).isEqualTo("a:X\r\n");
        assertThat(Canon.header("B : Y\t\r\n\tZ  \r\n")).isEqualTo("b:Y Z\r\n");
    }

    @Test
    void lowerCasesOnlyTheName() {
        assertThat(Canon.header("SUBJECT: Hello WORLD\r\n")).isEqualTo("subject:Hello WORLD\r\n");
    }

    @Test
    void unfoldsContinuationLines() {
        assertThat(Canon.header("To: a@example.com,\r\n b@example.com,\r\n\t c@example.com\r\n"))
                .isEqualTo("to:a@example.com, b@example.com, c@example.com\r\n");
    }

    @Test
    void removesWhitespaceAroundTheColon() {
        assertThat(Canon.header("X-Test \t :   \t value\r\n")).isEqualTo("x-test:value\r\n");
    }

    @Test
    void canonicalizesAnEmptyValue() {
        assertThat(Canon.header("Subject:   \r\n")).isEqualTo("subject:\r\n");
    }

    @Test
    void addsCrlfToAFieldWithoutOne() {
        assertThat(Canon.header("Subject: x")).isEqualTo("subject:x\r\n");
    }

    @Test
    void keepsEightBitBytesOfTheValue() {
        assertThat(Canon.header("Subject: Gr\u00c3\u00bc\u00c3\u009fe   \u00c3\u0084\r\n"))
                .isEqualTo("subject:Gr\u00c3\u00bc\u00c3\u009fe \u00c3\u0084\r\n");
    }

    @Test
    void rejectsAFieldWithoutColon() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] field = "no colon here\r\n".getBytes();

        assertThat(RelaxedHeaderCanonicalizer.canonicalize(field, 0, field.length, out)).isFalse();
        assertThat(out.size()).isZero();
    }
}

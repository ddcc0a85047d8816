package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RelaxedBodyCanonicalizerTest {

    @Test
    void canonicalizesTheRfc6376Example() {
        // RFC 6376 3.4.6
        assertThat(Canon.body(" C \r\nD \t E\r\n\r\n\r\n")).isEqualTo(" C\r\nD E\r\n");
    }

    @Test
    void removesWhitespaceAtLineEnds() {
        assertThat(Canon.body("a \t \r\nb\t\r\n")).isEqualTo("a\r\nb\r\n");
    }

    @Test
    void reducesWhitespaceRunsToOneSpace() {
        assertThat(Canon.body("a \t\t  b\r\n\t\tc\r\n")).isEqualTo("a b\r\n c\r\n");
    }

    @Test
    void dropsEmptyLinesAtTheEnd() {
        assertThat(Canon.body("a\r\n\r\n \r\n\t\r\n\r\n")).isEqualTo("a\r\n");
    }

    @Test
    void keepsEmptyLinesBetweenContent() {
        assertThat(Canon.body("a\r\n\r\n  \r\nb\r\n")).isEqualTo("a\r\n\r\n\r\nb\r\n");
    }

    @Test
    void emptyBodyCanonicalizesToNothing() {
        assertThat(Canon.body("")).isEmpty();
    }

    @Test
    void bodyOfOnlyEmptyLinesCanonicalizesToNothing() {
        assertThat(Canon.body("\r\n  \r\n\r\n")).isEmpty();
    }

    @Test
    void addsCrlfWhenTheLastLineHasNone() {
        assertThat(Canon.body("a\r\nb")).isEqualTo("a\r\nb\r\n");
    }

    @Test
    void dropsTrailingWhitespaceOfALastLineWithoutCrlf() {
        assertThat(Canon.body("a\r\nb \t")).isEqualTo("a\r\nb\r\n");
    }

    @Test
    void treatsBareCrAndBareLfAsLineEnds() {
        // Tern's SMTP client sends each as CRLF, so that is the body the receiver verifies.
        assertThat(Canon.body("a\rb\nc \r\r\nd\n\re")).isEqualTo("a\r\nb\r\nc\r\n\r\nd\r\n\r\ne\r\n");
    }

    @Test
    void treatsABareCrAtTheEndAsTheLastLineEnd() {
        assertThat(Canon.body("a \r")).isEqualTo("a\r\n");
    }

    @Test
    void givesTheSameResultWhenCrAndLfArriveInSeparatePieces() {
        assertThat(Canon.bodyInPieces("a\r\nb\r\n", 2)).isEqualTo("a\r\nb\r\n");
    }

    @Test
    void keepsEightBitBytes() {
        assertThat(Canon.body("Gr\u00c3\u00bc\u00c3\u009fe  \u00ff\r\n"))
                .isEqualTo("Gr\u00c3\u00bc\u00c3\u009fe \u00ff\r\n");
    }

    @Test
    void givesTheSameResultWhenCrlfIsSplitAcrossPieces() {
        String body = "a  \r\n\r\nb\r\n";
        assertThat(Canon.bodyInPieces(body, 3, 4, 5)).isEqualTo(Canon.body(body));
    }

    @Test
    void handlesMoreOutputThanOneBlock() {
        String body = "x\r\n" + "\r\n".repeat(10_000) + "y\r\n";
        assertThat(Canon.body(body)).isEqualTo(body);
    }
}

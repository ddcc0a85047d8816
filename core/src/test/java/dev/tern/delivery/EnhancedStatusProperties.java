package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link ReplyReader#enhanced}, the RFC 3463 status at the start of a reply's text, against a model written straight
 * from the grammar (status-code = class "." subject "." detail; class matches the reply; subject and detail of one
 * to three digits). jqwik prints the seed of a failure.
 */
class EnhancedStatusProperties {

    @Property(tries = 5000)
    void agreesWithTheGrammar(@ForAll("codes") int code, @ForAll("texts") String text) {
        assertThat(ReplyReader.enhanced(code, text)).isEqualTo(model(code, text));
    }

    @Example
    void acceptsTheLongestFieldsAndRejectsLongerOnes() {
        assertThat(ReplyReader.enhanced(550, "5.123.456 no")).isEqualTo("5.123.456");
        assertThat(ReplyReader.enhanced(550, "5.1234.1 no")).isEmpty();
        assertThat(ReplyReader.enhanced(550, "5.1.1234 no")).isEmpty();
        assertThat(ReplyReader.enhanced(250, "2.0.0")).isEqualTo("2.0.0");
        assertThat(ReplyReader.enhanced(250, "2.0.")).isEmpty();
        assertThat(ReplyReader.enhanced(250, "2..0 x")).isEmpty();
    }

    @Provide
    Arbitrary<Integer> codes() {
        return Arbitraries.of(250, 251, 354, 421, 451, 550, 554);
    }

    /** Mostly near-misses of a status: digits, dots and a space or two. */
    @Provide
    Arbitrary<String> texts() {
        return Arbitraries.strings().withChars("0123452.. x").ofMinLength(0).ofMaxLength(14);
    }

    private static String model(int code, String text) {
        String token = text.contains(" ") ? text.substring(0, text.indexOf(' ')) : text;
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[0].equals(String.valueOf(code / 100))) {
            return "";
        }
        for (int i = 1; i < 3; i++) {
            if (!parts[i].matches("[0-9]{1,3}")) {
                return "";
            }
        }
        return token;
    }
}

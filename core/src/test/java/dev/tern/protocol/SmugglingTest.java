package dev.tern.protocol;

import static dev.tern.protocol.TestBytes.latin1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.LineEndingPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every variant in {@code protocol/smuggling.tsv} is placed between a first message and a smuggled SMTP transaction;
 * only the real CRLF.CRLF at the very end may end DATA, whatever the split of the input.
 */
class SmugglingTest {
    private static final String HEAD = "From: a@example.org\r\nSubject: x\r\n\r\nbody";
    private static final String SMUGGLED = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
            + "From: ceo@example.org\r\n\r\nsmuggled\r\n";
    private static final String END = "\r\n.\r\n";

    static List<Arguments> corpus() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        try (InputStream in = SmugglingTest.class.getResourceAsStream("/protocol/smuggling.tsv")) {
            for (String row : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!row.isEmpty() && !row.startsWith("#")) {
                    String[] f = row.split("\t");
                    cases.add(Arguments.of(f[0], f[1].equals("bare")));
                }
            }
        }
        assertThat(cases).hasSizeGreaterThan(20);
        return cases;
    }

    private static byte[] attack(String escapedVariant) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(latin1(HEAD));
        b.writeBytes(TestBytes.unescape(escapedVariant));
        b.writeBytes(latin1(SMUGGLED));
        b.writeBytes(latin1(END));
        return b.toByteArray();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("corpus")
    void doesNotEndDataUnderReject(String variant, boolean bare) {
        byte[] input = attack(variant);
        for (int split = 0; split <= input.length; split++) {
            Decoding.Result r = Decoding.data(input, LineEndingPolicy.REJECT, 1 << 20, 1000, new int[] {split}, 7);
            assertThat(r.ended()).as("split %d", split).isTrue();
            assertThat(r.consumed()).as("ends only at the real terminator, split %d", split).isEqualTo(input.length);
            assertThat(r.badLineEnding()).as("split %d", split).isEqualTo(bare);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("corpus")
    void doesNotEndDataUnderNormalize(String variant, boolean bare) {
        byte[] input = attack(variant);
        Decoding.Result whole = Decoding.data(input, LineEndingPolicy.NORMALIZE);
        assertThat(whole.badLineEnding()).isFalse();
        for (int split = 0; split <= input.length; split++) {
            Decoding.Result r = Decoding.data(input, LineEndingPolicy.NORMALIZE, 1 << 20, 1000, new int[] {split}, 5);
            assertThat(r.ended()).as("split %d", split).isTrue();
            assertThat(r.consumed()).as("split %d", split).isEqualTo(input.length);
            assertThat(r.content()).as("split %d", split).isEqualTo(whole.content());
        }
        assertThat(whole.text()).contains("smuggled");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("corpus")
    void normalizedContentHasOnlyCrlfAndSurvivesRestuffing(String variant, boolean bare) {
        byte[] content = Decoding.data(attack(variant), LineEndingPolicy.NORMALIZE).content();
        String text = new String(content, StandardCharsets.ISO_8859_1);
        assertThat(text.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        byte[] restuffed = Decoding.dotStuff(content);
        String stuffedText = new String(restuffed, StandardCharsets.ISO_8859_1);
        // The only line that is exactly "." is the real terminator at the very end.
        assertThat(stuffedText.indexOf("\r\n.\r\n")).isEqualTo(stuffedText.length() - 5);
        Decoding.Result again = Decoding.data(restuffed, LineEndingPolicy.REJECT);
        assertThat(again.content()).isEqualTo(content);
        assertThat(again.badLineEnding()).isFalse();
    }
}

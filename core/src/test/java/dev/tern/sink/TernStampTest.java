package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class TernStampTest {
    private static final String DIGEST = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    @Test
    void parsesTheValueTheLoadGeneratorWritesFromBytes() {
        byte[] value = (" t=1764097200123456; sha256=" + DIGEST + "\r").getBytes(StandardCharsets.US_ASCII);
        byte[] digest = new byte[32];

        assertThat(TernStamp.parseValue(value, 0, value.length, digest)).isEqualTo(1764097200123456L);
        assertThat(digest).isEqualTo(HexFormat.of().parseHex(DIGEST));
    }

    /** The allocation-free byte parser the sink uses accepts and rejects exactly what the String parser does. */
    @Property(tries = 500)
    void bytesParseExactlyAsTheStringParser(@ForAll("stampValues") String value) {
        TernStamp expected = TernStamp.parseValue(value);
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        byte[] digest = new byte[32];

        long t = TernStamp.parseValue(bytes, 0, bytes.length, digest);

        if (expected == null) {
            assertThat(t).as("'%s'", value).isEqualTo(-1);
        } else {
            assertThat(t).as("'%s'", value).isEqualTo(expected.epochMicros());
            assertThat(Arrays.equals(digest, expected.sha256())).as("'%s'", value).isTrue();
        }
    }

    @Provide
    Arbitrary<String> stampValues() {
        Arbitrary<String> space = Arbitraries.of("", " ", "  ", "\t");
        Arbitrary<String> hex = Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(64);
        Arbitrary<String> key = Arbitraries.of("t", "T", "sha256", "SHA256", "Sha256", "x", "", "sha25", "tt");
        Arbitrary<String> val = Arbitraries.oneOf(
                Arbitraries.longs().between(-5, Long.MAX_VALUE).map(String::valueOf),
                Arbitraries.of("", "+7", "-0", "abc", "9223372036854775808", "12 34", DIGEST.substring(1)),
                hex,
                hex.map(h -> h.substring(0, 63) + "g"));
        Arbitrary<String> part = Combinators.combine(space, key, space, Arbitraries.of("=", "", "=="), space, val,
                space).as((a, k, b, eq, c, v, d) -> a + k + b + eq + c + v + d);
        return part.list().ofMinSize(0).ofMaxSize(4).map(parts -> String.join(";", parts));
    }

    @Test
    void rejectsAValueWithoutADigest() {
        byte[] value = "t=5".getBytes(StandardCharsets.US_ASCII);

        assertThat(TernStamp.parseValue(value, 0, value.length, new byte[32])).isEqualTo(-1);
    }

    @Test
    void readsOnlyTheGivenRange() {
        List<String> around = List.of("garbage;", ";t=x");
        String inner = "t=42; sha256=" + DIGEST;
        byte[] value = (around.get(0) + inner + around.get(1)).getBytes(StandardCharsets.US_ASCII);
        int from = around.get(0).length();

        assertThat(TernStamp.parseValue(value, from, from + inner.length(), new byte[32])).isEqualTo(42);
    }
}

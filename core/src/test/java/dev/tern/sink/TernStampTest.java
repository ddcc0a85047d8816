package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
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

    /**
     * The straightforward reading of the format with Strings: split on ';', trim, {@code key=value}, keys case-blind,
     * {@link Long#parseLong}, 64 hex digits. The reference the allocation-free parser is checked against.
     */
    private static TernStamp referenceParse(String value) {
        long t = -1;
        byte[] digest = null;
        for (String part : value.split(";")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String v = p.substring(eq + 1).trim();
            try {
                if (key.equals("t")) {
                    t = Long.parseLong(v);
                } else if (key.equals("sha256") && v.length() == 64) {
                    digest = HexFormat.of().parseHex(v);
                }
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return t < 0 || digest == null ? null : new TernStamp(t, digest);
    }

    /** The allocation-free byte parser the sink uses accepts and rejects exactly what the String reading does. */
    @Property(tries = 500)
    void bytesParseExactlyAsTheStringReading(@ForAll("stampValues") String value) {
        TernStamp expected = referenceParse(value);
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

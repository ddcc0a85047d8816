package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class BodyCacheTest {
    private final BodyCache cache = new BodyCache(1);

    @Test
    void bodiesHaveTheExactLengthAndEndWithCrLf() {
        for (int length : new int[] {0, 2, 3, 77, 78, 79, 80, 81, 156, 157, 158, 4096, 65_537}) {
            byte[] raw = cache.body(length).raw();
            assertThat(raw).as("length %d", length).hasSize(length);
            if (length > 0) {
                assertThat(new String(raw, StandardCharsets.US_ASCII)).endsWith("\r\n");
            }
        }
    }

    @Test
    void everyLineEndsWithCrLfAndNoneIsLongerThan78() {
        String body = new String(cache.body(50_000).raw(), StandardCharsets.US_ASCII);
        assertThat(body.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
        assertThat(body.split("\r\n")).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(76));
    }

    @Test
    void dataSectionDoublesTheDotAtTheStartOfEachLineAndEndsWithTheDotLine() {
        BodyCache.Body body = cache.body(10_000);
        String raw = new String(body.raw(), StandardCharsets.US_ASCII);
        String dataSection = new String(body.dataSection(), StandardCharsets.US_ASCII);

        assertThat(raw).contains("\r\n.");
        String expected = (raw.startsWith(".") ? "." : "") + raw.replace("\r\n.", "\r\n..") + ".\r\n";
        assertThat(dataSection).isEqualTo(expected);
    }

    @Test
    void digestIsTheSha256OfTheRawBody() throws Exception {
        BodyCache.Body body = cache.body(3_000);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.raw());

        assertThat(new String(body.sha256Hex(), StandardCharsets.US_ASCII)).isEqualTo(HexFormat.of().formatHex(digest));
    }

    @Test
    void returnsTheSameBodyForTheSameLength() {
        assertThat(cache.body(1234)).isSameAs(cache.body(1234));
    }
}

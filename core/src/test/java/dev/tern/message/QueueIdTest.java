package dev.tern.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Queue ids as operators type them into {@code tern queue show ID}. */
class QueueIdTest {
    @Test
    void formatAndParseRoundTrip() {
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 5000; i++) {
            long id = random.nextLong();
            String text = QueueId.format(id);
            assertThat(text).hasSize(16).matches("[0-9A-F]{16}");
            assertThat(QueueId.parse(text)).isEqualTo(id);
            assertThat(QueueId.parse(text.toLowerCase())).isEqualTo(id);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"+000000000000001", "-000000000000001", "00000000000000G1", "0000000000000 01",
        "00000000000000\u0661\u0662", "000000000000000\uFF21", "1", "00000000000000001"})
    void refusesAnythingButSixteenAsciiHexDigits(String text) {
        assertThatThrownBy(() -> QueueId.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("16 hex digits");
    }
}

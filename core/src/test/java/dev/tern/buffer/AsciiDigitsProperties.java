package dev.tern.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/** {@link Ascii#decimalDigits} and {@link Ascii#putDigits} against {@link Long#toString}. */
class AsciiDigitsProperties {

    @Property
    void writesWhatLongToStringWrites(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long value) {
        int n = Ascii.decimalDigits(value);
        byte[] dst = new byte[n + 2];
        Ascii.putDigits(dst, 1, n, value);
        assertThat(n).isEqualTo(Long.toString(value).length());
        assertThat(new String(dst, 1, n, StandardCharsets.US_ASCII)).isEqualTo(Long.toString(value));
        assertThat(dst[0]).isZero();
        assertThat(dst[n + 1]).isZero();
    }

    @Property
    void padsWithZerosToTheCountAsked(@ForAll @LongRange(min = 0, max = 999) long value) {
        byte[] dst = new byte[3];
        Ascii.putDigits(dst, 0, 3, value);
        assertThat(new String(dst, StandardCharsets.US_ASCII)).isEqualTo(String.format("%03d", value));
    }
}

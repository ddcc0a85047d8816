package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The sink's fault-injection ratios: the compact text {@link SinkSettings.Builder#faults} reads
 * ({@code name=value} pairs, {@code slow=RATIO:MILLIS}) and the check {@link SinkSettings} makes of the ratios (each
 * in [0, 1], the shares of one step adding up to at most 1), against a model in exact decimal arithmetic: ratios as
 * written are what the sink uses, a set of ratios is refused exactly when its decimal sum exceeds 1, and anything
 * else ends in {@link IllegalArgumentException} naming the problem. jqwik prints the seed of a failure.
 */
class SinkSettingsProperties {
    private static final List<String> RATIOS = List.of("tempfail-rcpt", "reject-rcpt", "tempfail-data",
            "reject-data", "disconnect-data");

    /** One pair as written: a name, a decimal ratio (and for slow a delay), and the spacing around it. */
    record Pair(String name, BigDecimal ratio, long millis, String pad) {
        String text() {
            String value = ratio.toPlainString() + (name.equals("slow") ? ":" + millis : "");
            return pad + name + pad + "=" + pad + value + pad;
        }
    }

    @Provide
    Arbitrary<BigDecimal> ratios() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.integers().between(0, 100).map(n -> BigDecimal.valueOf(n, 2))),
                Tuple.of(2, Arbitraries.integers().between(0, 1000).map(n -> BigDecimal.valueOf(n, 3))),
                Tuple.of(1, Arbitraries.of(BigDecimal.ZERO, BigDecimal.ONE, new BigDecimal("0.5"),
                        new BigDecimal("1.0"), new BigDecimal("0.0001"))));
    }

    @Provide
    Arbitrary<Pair> pairs() {
        return Combinators.combine(Arbitraries.of("tempfail-rcpt", "reject-rcpt", "tempfail-data", "reject-data",
                        "disconnect-data", "slow"), ratios(), Arbitraries.longs().between(0, 5000),
                Arbitraries.of("", "", " ", "\t")).as(Pair::new);
    }

    /** The ratios the model expects after {@code pairs} (a later pair for the same name wins), all from zero. */
    private static Map<String, BigDecimal> model(List<Pair> pairs) {
        Map<String, BigDecimal> m = new LinkedHashMap<>();
        for (String n : RATIOS) {
            m.put(n, BigDecimal.ZERO);
        }
        m.put("slow", BigDecimal.ZERO);
        for (Pair p : pairs) {
            m.put(p.name(), p.ratio());
        }
        return m;
    }

    private static String text(List<Pair> pairs, String separator) {
        List<String> parts = new ArrayList<>();
        pairs.forEach(p -> parts.add(p.text()));
        return String.join(separator, parts);
    }

    private static boolean exceedsOne(BigDecimal... shares) {
        BigDecimal sum = BigDecimal.ZERO;
        for (BigDecimal s : shares) {
            sum = sum.add(s);
        }
        return sum.compareTo(BigDecimal.ONE) > 0;
    }

    /** Pairs whose decimal sums are not exactly 1 (that boundary has its own property below). */
    @Property(tries = 3000)
    void faultTextsGiveTheRatiosWritten(@ForAll("pairLists") List<Pair> pairs,
                                        @ForAll("separators") String separator) {
        Map<String, BigDecimal> m = model(pairs);
        BigDecimal rcpt = m.get("tempfail-rcpt").add(m.get("reject-rcpt"));
        BigDecimal data = m.get("tempfail-data").add(m.get("reject-data")).add(m.get("disconnect-data"));
        if (rcpt.compareTo(BigDecimal.ONE) == 0 || data.compareTo(BigDecimal.ONE) == 0) {
            return;
        }
        SinkSettings.Builder b = SinkSettings.builder().faults(text(pairs, separator));
        if (rcpt.compareTo(BigDecimal.ONE) > 0 || data.compareTo(BigDecimal.ONE) > 0) {
            assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("add up to more than 1");
            return;
        }
        SinkSettings s = b.build();
        assertThat(s.tempfailRcptRatio()).isEqualTo(m.get("tempfail-rcpt").doubleValue());
        assertThat(s.rejectRcptRatio()).isEqualTo(m.get("reject-rcpt").doubleValue());
        assertThat(s.tempfailDataRatio()).isEqualTo(m.get("tempfail-data").doubleValue());
        assertThat(s.rejectDataRatio()).isEqualTo(m.get("reject-data").doubleValue());
        assertThat(s.disconnectDataRatio()).isEqualTo(m.get("disconnect-data").doubleValue());
        assertThat(s.slowReplyRatio()).isEqualTo(m.get("slow").doubleValue());
        long slowMillis = pairs.stream().filter(p -> p.name().equals("slow")).reduce((a, c) -> c)
                .map(Pair::millis).orElse(0L);
        assertThat(s.slowReplyDelay()).isEqualTo(Duration.ofMillis(slowMillis));
        // and the record rebuilt from itself is the same (toBuilder keeps every setting)
        assertThat(s.toBuilder().build()).isEqualTo(s);
    }

    @Provide
    Arbitrary<List<Pair>> pairLists() {
        return pairs().list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of(",", ", ", " ,", ",,", " , ,");
    }

    /**
     * Shares that add up to exactly 1 in decimal, as an operator writes them (0.33 + 0.56 + 0.11), are allowed: "at
     * most 1" must not depend on how binary doubles round the sum. Every split of 1 into two or three hundredths,
     * and into two thousandths, in the order the sink's options take them.
     */
    @Example
    void everySplitOfOneIntoHundredthsIsAllowed() {
        List<String> refused = new ArrayList<>();
        for (int a = 0; a <= 100; a++) {
            for (int b = 0; a + b <= 100; b++) {
                String text = "tempfail-data=" + BigDecimal.valueOf(a, 2).toPlainString() + ",reject-data="
                        + BigDecimal.valueOf(b, 2).toPlainString() + ",disconnect-data="
                        + BigDecimal.valueOf(100 - a - b, 2).toPlainString();
                allowed(text, refused);
            }
        }
        for (int a = 0; a <= 1000; a++) {
            allowed("tempfail-rcpt=" + BigDecimal.valueOf(a, 3).toPlainString() + ",reject-rcpt="
                    + BigDecimal.valueOf(1000 - a, 3).toPlainString(), refused);
        }
        assertThat(refused).isEmpty();
    }

    private static void allowed(String text, List<String> refused) {
        try {
            SinkSettings.builder().faults(text).build();
        } catch (IllegalArgumentException e) {
            refused.add(text);
        }
    }

    @Provide
    Arbitrary<String> hostileTexts() {
        Arbitrary<String> name = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of("tempfail-rcpt", "reject-rcpt", "tempfail-data", "reject-data",
                        "disconnect-data", "slow")),
                Tuple.of(1, Arbitraries.of("", "TEMPFAIL-RCPT", "slowly", "explode", " ", "=", "slow:")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
        Arbitrary<String> value = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of("0", "1", "0.5", "-0.1", "1.01", "NaN", "Infinity", "-Infinity", "1e-3",
                        "0x1p-1", "0.5d", "", " ", ".", "1,5", "0.5:", ":100", "0.5:100", "0.5:-1", "0.5:1e3",
                        "0.5:99999999999999999999", "1:9223372036854775807", "0.5:100:7", "\u0661")),
                Tuple.of(1, Arbitraries.strings().withChars("0123456789.:-+eE ").ofMaxLength(8)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
        Arbitrary<String> pair = Arbitraries.frequencyOf(
                Tuple.of(6, Combinators.combine(name, value).as((n, v) -> n + "=" + v)),
                Tuple.of(1, name), Tuple.of(1, value));
        return pair.list().ofMaxSize(5).map(l -> String.join(",", l));
    }

    /** Anything else: refused by faults() or build() with IllegalArgumentException and a message, nothing else. */
    /** Found by the property below in a soak run: "-0" was read as -0.0, a ratio below 0 to Double.compare. */
    @Example
    void negativeZeroRatioReadsAsZero() {
        SinkSettings s = SinkSettings.builder().faults("tempfail-rcpt=-0,slow=-0.0:5").build();
        assertThat(Double.compare(s.tempfailRcptRatio(), 0.0)).isZero();
        assertThat(Double.compare(s.slowReplyRatio(), 0.0)).isZero();
    }

    @Property(tries = 5000)
    void hostileTextsAreReadOrRefusedWithIllegalArgument(@ForAll("hostileTexts") String text) {
        SinkSettings s;
        try {
            s = SinkSettings.builder().faults(text).build();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("message for '%s'", text).isNotBlank();
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("faults('" + text + "') threw " + e, e);
        }
        // Accepted: every ratio is a share, and the shares of one step do not exceed 1.
        for (double r : new double[] {s.tempfailRcptRatio(), s.rejectRcptRatio(), s.tempfailDataRatio(),
                s.rejectDataRatio(), s.disconnectDataRatio(), s.slowReplyRatio()}) {
            assertThat(r).as(text).isBetween(0.0, 1.0);
        }
        assertThat(s.tempfailRcptRatio() + s.rejectRcptRatio()).as(text).isLessThanOrEqualTo(1.0);
        assertThat(s.slowReplyDelay().isNegative()).as(text).isFalse();
    }

    /** A refusal names the pair (or its name) it could not read, so an operator sees which one to fix. */
    @Property(tries = 2000)
    void aBadPairIsNamed(@ForAll("pairLists") List<Pair> good, @ForAll @IntRange(min = 0, max = 8) int at,
                         @ForAll("badPairs") String bad) {
        List<String> parts = new ArrayList<>();
        good.forEach(p -> parts.add(p.text()));
        parts.add(Math.min(at, parts.size()), bad);
        int eq = bad.indexOf('=');
        String named = eq > 0 ? bad.substring(0, eq) : bad;
        assertThatThrownBy(() -> SinkSettings.builder().faults(String.join(",", parts)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(named);
    }

    @Provide
    Arbitrary<String> badPairs() {
        return Arbitraries.of("explode=1", "tempfail-rcpt", "=0.5", "tempfail-rcpt=abc", "slow=0.5",
                "slow=0.5:abc", "reject-data=", "slow=:100", "slowness=0.1", "tempfail_rcpt=0.1");
    }
}

package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SizeDistributionTest {
    @Test
    void parsesAFixedSizeWithSuffix() {
        assertThat(SizeDistribution.parse("4k")).isEqualTo(new SizeDistribution.Fixed(4096));
        assertThat(SizeDistribution.parse("1m")).isEqualTo(new SizeDistribution.Fixed(1 << 20));
        assertThat(SizeDistribution.parse("300")).isEqualTo(new SizeDistribution.Fixed(300));
    }

    @Test
    void uniformSizesStayInTheirRange() {
        SizeDistribution d = SizeDistribution.parse("1k-2k");
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            assertThat(d.next(random)).isBetween(1024, 2048);
        }
    }

    @Test
    void logNormalSizesCentreOnTheMedianAndAreCapped() {
        SizeDistribution d = SizeDistribution.parse("lognormal:4k,1.0");
        SplittableRandom random = new SplittableRandom(1);
        int below = 0;
        for (int i = 0; i < 10_000; i++) {
            int size = d.next(random);
            assertThat(size).isBetween(1, d.max());
            below += size < 4096 ? 1 : 0;
        }
        assertThat(below).isBetween(4_500, 5_500);
    }

    @Test
    void rejectsMalformedSizes() {
        assertThatThrownBy(() -> SizeDistribution.parse("big")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SizeDistribution.parse("2k-1k")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SizeDistribution.parse("0")).isInstanceOf(IllegalArgumentException.class);
    }

    /** Seeded generated input: every distribution's text parses back to it, and draws stay within its bounds. */
    @Test
    void everyDistributionParsesBackFromItsTextAndDrawsWithinItsBounds() {
        SplittableRandom random = new SplittableRandom(2026);
        for (int i = 0; i < 3000; i++) {
            int a = 1 + random.nextInt(SizeDistribution.MAX_SIZE);
            int b = 1 + random.nextInt(SizeDistribution.MAX_SIZE);
            SizeDistribution d = switch (i % 3) {
                case 0 -> new SizeDistribution.Fixed(a);
                case 1 -> new SizeDistribution.Uniform(Math.min(a, b), Math.max(a, b));
                default -> new SizeDistribution.LogNormal(a, 0.01 + random.nextDouble() * 3.99);
            };
            assertThat(SizeDistribution.parse(d.toString())).as(d.toString()).isEqualTo(d);
            for (int n = 0; n < 20; n++) {
                assertThat(d.next(random)).as(d.toString()).isBetween(1, d.max());
            }
            assertThat(d.max()).isBetween(1, SizeDistribution.MAX_SIZE);
        }
    }

    /** Whatever an operator types, it is a distribution or an IllegalArgumentException that names the text. */
    @Test
    void anyTextIsADistributionOrAClearRefusal() {
        SplittableRandom random = new SplittableRandom(7);
        String alphabet = "0123456789kKmM-:,. lognrmaxe+NIfy";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder t = new StringBuilder(random.nextBoolean() ? "lognormal:" : "");
            int n = random.nextInt(12);
            for (int c = 0; c < n; c++) {
                t.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String text = t.toString();
            try {
                SizeDistribution d = SizeDistribution.parse(text);
                assertThat(d.max()).as(text).isBetween(1, SizeDistribution.MAX_SIZE);
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage()).as(text).isNotBlank().doesNotStartWith("For input string");
            }
        }
    }
}

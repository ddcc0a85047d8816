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
}

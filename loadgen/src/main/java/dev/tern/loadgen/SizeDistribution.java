package dev.tern.loadgen;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How big each generated message is (in bytes, headers included). Parsed from {@code 4k} (fixed),
 * {@code 1k-64k} (uniform) or {@code lognormal:4k,1.0} (log-normal with that median and sigma, capped at 100x
 * the median), the shapes real mail traffic is usually modelled with. Immutable.
 */
public sealed interface SizeDistribution {
    /** Hard upper bound of any size drawn, so buffers can be sized once. */
    int max();

    /** The next size, drawn from {@code random}. */
    int next(SplittableRandom random);

    /** Every message has the same size. */
    record Fixed(int size) implements SizeDistribution {
        public Fixed {
            checkSize(size);
        }

        @Override
        public int max() {
            return size;
        }

        @Override
        public int next(SplittableRandom random) {
            return size;
        }

        @Override
        public String toString() {
            return String.valueOf(size);
        }
    }

    /** Uniform over [min, max]. */
    record Uniform(int min, int max) implements SizeDistribution {
        public Uniform {
            checkSize(min);
            checkSize(max);
            if (min > max) {
                throw new IllegalArgumentException("size range " + min + "-" + max + " is empty");
            }
        }

        @Override
        public int next(SplittableRandom random) {
            return min == max ? min : random.nextInt(min, max + 1);
        }

        @Override
        public String toString() {
            return min + "-" + max;
        }
    }

    /** Log-normal with the given median and sigma, capped at 100 times the median. */
    record LogNormal(int median, double sigma) implements SizeDistribution {
        public LogNormal {
            checkSize(median);
            if (!(sigma > 0 && sigma <= 4)) {
                throw new IllegalArgumentException("sigma must be in (0, 4]: " + sigma);
            }
        }

        @Override
        public int max() {
            return (int) Math.min(MAX_SIZE, 100L * median);
        }

        @Override
        public int next(SplittableRandom random) {
            // Box-Muller: one standard normal from two uniforms.
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double z = Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
            return (int) Math.max(1, Math.min(max(), Math.round(median * Math.exp(sigma * z))));
        }

        @Override
        public String toString() {
            return "lognormal:" + median + "," + sigma;
        }
    }

    /** Largest message the generator will build (64 MiB). */
    int MAX_SIZE = 64 << 20;

    private static void checkSize(int size) {
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("message size must be 1.." + MAX_SIZE + ": " + size);
        }
    }

    /** Parses {@code 4k}, {@code 1k-64k} or {@code lognormal:4k,1.0}; suffixes k and m are powers of 1024. */
    static SizeDistribution parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("lognormal:")) {
            String[] parts = t.substring("lognormal:".length()).split(",");
            if (parts.length != 2) {
                throw new IllegalArgumentException("expected lognormal:MEDIAN,SIGMA, got '" + text + "'");
            }
            double sigma;
            try {
                sigma = Double.parseDouble(parts[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected lognormal:MEDIAN,SIGMA, got '" + text + "'");
            }
            return new LogNormal(bytes(parts[0]), sigma);
        }
        int dash = t.indexOf('-');
        if (dash > 0) {
            return new Uniform(bytes(t.substring(0, dash)), bytes(t.substring(dash + 1)));
        }
        return new Fixed(bytes(t));
    }

    /** Parses a byte count with an optional k or m suffix (powers of 1024). */
    static int bytes(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long scale = 1;
        if (t.endsWith("k") || t.endsWith("m")) {
            scale = t.endsWith("k") ? 1024 : 1024 * 1024;
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Math.round(Double.parseDouble(t) * scale);
            if (v < 1 || v > MAX_SIZE) {
                throw new IllegalArgumentException("size out of range: " + text);
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "'");
        }
    }
}

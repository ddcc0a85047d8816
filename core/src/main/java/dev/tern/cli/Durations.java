package dev.tern.cli;

import dev.tern.config.ConfigLoader;
import java.time.Duration;

/** Durations on the command line read like settings: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}. */
final class Durations {
    private Durations() {
    }

    static Duration parse(String text) {
        return ConfigLoader.parseDuration(text);
    }
}

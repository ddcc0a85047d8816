package dev.tern.loadgen;

import dev.tern.config.ConfigLoader;
import java.time.Duration;
import picocli.CommandLine;

/**
 * Durations on the load generator's command line, written as everywhere else in Tern ({@code 500ms}, {@code 30s},
 * {@code 2m}, {@code 1h}, {@code 2d}): one syntax, one parser ({@link ConfigLoader#parseDuration}).
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return ConfigLoader.parseDuration(value.trim());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}

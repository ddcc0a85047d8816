package dev.tern.cli;

/**
 * A {@code tern} subcommand contributed by another module (loadgen, demo): a picocli {@code @Command} class with a
 * public no-argument constructor, listed in {@code META-INF/services/dev.tern.cli.TernSubcommand}. {@link Main} adds
 * every one it finds, so {@code tern --help} lists them all.
 */
public interface TernSubcommand {
}

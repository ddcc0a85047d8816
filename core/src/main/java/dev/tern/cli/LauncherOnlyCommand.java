package dev.tern.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Subcommands the {@code tern} script runs itself; here only so that {@code tern --help} lists them. */
final class LauncherOnlyCommand {
    private LauncherOnlyCommand() {
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Run the whole test suite (mvn test), installing the real SMTP peers it needs first.",
                "Extra arguments go to Maven, e.g. ./tern test -Dtest='dev.tern.protocol.**'."})
    static final class Test implements Callable<Integer> {
        @Override
        public Integer call() {
            System.err.println("tern: 'test' is run by the ./tern script: use ./tern test");
            return 2;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Run the JMH benchmarks (short settings, -prof gc) whose names match a pattern.",
                "./tern bench [PATTERN] or ./tern bench PATTERN <JMH options>, e.g. ./tern bench Parser -f 1 -i 5."})
    static final class Bench implements Callable<Integer> {
        @Override
        public Integer call() {
            System.err.println("tern: 'bench' is run by the ./tern script: use ./tern bench [PATTERN]");
            return 2;
        }
    }
}

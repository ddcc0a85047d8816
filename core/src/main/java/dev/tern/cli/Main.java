package dev.tern.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code tern}: the operator's single entry point. Subcommands of this module are listed here; other modules add theirs
 * through {@link TernSubcommand}. {@code test} and {@code bench} are run by the launcher script itself (they drive
 * Maven and JMH), and are listed so that {@code --help} shows them.
 */
@Command(name = "tern", mixinStandardHelpOptions = true, versionProvider = TernVersion.class,
        description = "Tern: a high-throughput SMTP edge relay that answers 250 only once mail is on disk.",
        subcommands = {SinkCommand.class, LauncherOnlyCommand.Test.class,
                LauncherOnlyCommand.Bench.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The full command tree, plug-in subcommands included. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (TernSubcommand sub : ServiceLoader.load(TernSubcommand.class)) {
            cl.addSubcommand(sub);
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

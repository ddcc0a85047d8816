package dev.tern.cli;

import dev.tern.Tern;
import dev.tern.config.ConfigException;
import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tern relay}: runs the relay in the foreground until interrupted (SIGTERM/SIGINT stop it cleanly). */
@Command(name = "relay", mixinStandardHelpOptions = true, modelTransformer = RelayCommand.Flags.class,
        description = {"Run the SMTP relay: accept mail, journal it durably, deliver it.",
            "Every setting is a flag here and a 'key = value' line in the --config file."})
final class RelayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--print-config", description = "print the effective configuration and exit")
    boolean printConfig;

    /** Adds one flag per setting when picocli builds the command. */
    static final class Flags implements IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            SettingOptions.addTo(spec, RelayConfig.defaults());
            return spec;
        }
    }

    @Override
    public Integer call() throws Exception {
        RelayConfig config;
        try {
            config = SettingOptions.load(spec, RelayConfig.defaults());
        } catch (ConfigException e) {
            e.problems().forEach(p -> spec.commandLine().getErr().println("tern relay: " + p));
            return 2;
        }
        if (printConfig) {
            ConfigLoader.describe(config).forEach(spec.commandLine().getOut()::println);
            return 0;
        }
        Tern tern = Tern.launch(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            tern.close();
            stopped.countDown();
        }, "tern-shutdown"));
        spec.commandLine().getOut().printf("tern relay: listening on %s, journal %s (durability %s), delivery %s%n",
                tern.smtpAddress(), config.dataDir().toAbsolutePath(), config.journal().durability(),
                !config.delivery().enabled() ? "off"
                        : config.delivery().smarthost().map(h -> "via smarthost " + h).orElse("by MX"));
        spec.commandLine().getOut().flush();
        stopped.await();
        return 0;
    }
}

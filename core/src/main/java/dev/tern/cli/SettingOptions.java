package dev.tern.cli;

import dev.tern.config.ConfigException;
import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import dev.tern.config.Setting;
import dev.tern.config.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Gives a command one flag per {@link Setting} ({@code --max-message-size 10m}; families as {@code --route
 * example.com=127.0.0.1:2526}) plus {@code --config FILE}, and turns what was given into a {@link RelayConfig}.
 * Defaults shown in help are the real ones, read from the config records.
 */
final class SettingOptions {
    private SettingOptions() {
    }

    static void addTo(CommandSpec spec, RelayConfig defaults) {
        spec.addOption(OptionSpec.builder("--config").paramLabel("FILE").type(Path.class)
                .description("config file of 'key = value' lines; flags override it").build());
        for (Setting s : Settings.ALL) {
            if (s.family()) {
                spec.addOption(OptionSpec.builder("--" + s.name()).paramLabel("KEY=VALUE").type(String[].class)
                        .arity("1").description(s.description()).build());
            } else {
                spec.addOption(OptionSpec.builder("--" + s.name()).paramLabel("VALUE").type(String.class)
                        .description(s.description() + " (default: " + ConfigLoader.value(defaults, s) + ")")
                        .build());
            }
        }
    }

    static RelayConfig load(CommandSpec spec, RelayConfig defaults) throws ConfigException {
        ParseResult pr = spec.commandLine().getParseResult();
        Map<String, String> flags = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Setting s : Settings.ALL) {
            OptionSpec o = spec.findOption("--" + s.name());
            if (o == null || !pr.hasMatchedOption(o)) {
                continue;
            }
            if (s.family()) {
                for (String kv : pr.matchedOptionValue("--" + s.name(), new String[0])) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        problems.add("--" + s.name() + ": expected KEY=VALUE, got '" + kv + "'");
                        continue;
                    }
                    flags.put(s.name() + "." + kv.substring(0, eq), kv.substring(eq + 1));
                }
            } else {
                flags.put(s.name(), pr.matchedOptionValue("--" + s.name(), ""));
            }
        }
        OptionSpec config = spec.findOption("--config");
        Path file = pr.hasMatchedOption(config) ? pr.matchedOptionValue("--config", (Path) null) : null;
        // Every problem at once: the malformed flags above with whatever the file and the other flags have.
        RelayConfig loaded = null;
        try {
            loaded = ConfigLoader.load(defaults, file, flags);
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return loaded;
    }
}

package dev.tern.config;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the {@link RelayConfig}: defaults, then the config file, then flags, each later one winning. The config file
 * has one {@code key = value} per line; {@code #} starts a comment. Every problem (unknown key, bad value, failed
 * check) is collected, and all of them are reported together in one {@link ConfigException}.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /** Loads {@code file} (may be null) and then {@code flags} (key without dashes -> value) over the defaults. */
    public static RelayConfig load(Path file, Map<String, String> flags) throws ConfigException {
        return load(RelayConfig.defaults(), file, flags);
    }

    public static RelayConfig load(RelayConfig base, Path file, Map<String, String> flags) throws ConfigException {
        List<String> problems = new ArrayList<>();
        RelayConfig config = base;
        if (file != null) {
            config = apply(config, readFile(file, problems), file + ": ", problems);
        }
        config = apply(config, flags, "--", problems);
        problems.addAll(check(config));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    /** The file's {@code key = value} lines, in order; syntax problems are added to {@code problems}. */
    static Map<String, String> readFile(Path file, List<String> problems) {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            problems.add(file + ": cannot read (" + e.getMessage() + ")");
            return values;
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            if (line.isBlank()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                problems.add(file + ":" + (i + 1) + ": expected 'key = value'");
                continue;
            }
            values.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
        return values;
    }

    private static RelayConfig apply(RelayConfig config, Map<String, String> values, String where,
                                     List<String> problems) {
        for (Map.Entry<String, String> e : values.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            try {
                config = set(config, key, e.getValue());
            } catch (IllegalArgumentException ex) {
                problems.add(where + key + ": " + ex.getMessage());
            }
        }
        return config;
    }

    /** A copy of {@code config} with one setting changed; {@link IllegalArgumentException} says what is wrong. */
    public static RelayConfig set(RelayConfig config, String key, String text) {
        for (Setting s : Settings.ALL) {
            if (!s.family() && s.name().equals(key)) {
                Object value = ValueParser.parse(RecordPaths.type(RelayConfig.class, s.path()), text);
                return RecordPaths.with(config, s.path(), value);
            }
            if (s.family() && key.startsWith(s.name() + ".") && key.length() > s.name().length() + 1) {
                String mapKey = key.substring(s.name().length() + 1);
                Type mapType = RecordPaths.type(RelayConfig.class, s.path());
                Type valueType = ((ParameterizedType) mapType).getActualTypeArguments()[1];
                Map<String, Object> map = new LinkedHashMap<>((Map<String, ?>) RecordPaths.get(config, s.path()));
                map.put(mapKey, ValueParser.parse(valueType, text));
                return RecordPaths.with(config, s.path(), Map.copyOf(map));
            }
        }
        throw new IllegalArgumentException("unknown setting (see 'tern relay --help')");
    }

    /** A duration written as settings are ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}). */
    public static java.time.Duration parseDuration(String text) {
        return (java.time.Duration) ValueParser.parse(java.time.Duration.class, text);
    }

    /** The current value of a (non-family) setting, rendered as the config file would write it. */
    public static String value(RelayConfig config, Setting s) {
        return ValueParser.format(RecordPaths.get(config, s.path()));
    }

    /** The whole configuration as config-file lines, families included. */
    public static List<String> describe(RelayConfig config) {
        List<String> out = new ArrayList<>();
        for (Setting s : Settings.ALL) {
            Object v = RecordPaths.get(config, s.path());
            if (s.family()) {
                ((Map<?, ?>) v).forEach((k, val) -> out.add(s.name() + "." + k + " = " + ValueParser.format(val)));
            } else {
                out.add(s.name() + " = " + ValueParser.format(v));
            }
        }
        return out;
    }

    /** Checks that span settings or bound them; each returned line is one problem. */
    static List<String> check(RelayConfig c) {
        List<String> p = new ArrayList<>();
        SmtpSettings s = c.smtp();
        // RFC 5321 4.5.3.1: servers must accept command lines of 512 and text lines of 1000 octets.
        if (s.maxCommandLine() < 512) {
            p.add("max-command-line: must be at least 512 (RFC 5321 4.5.3.1.4)");
        }
        if (s.maxDataLine() < 1000) {
            p.add("max-data-line: must be at least 1000 (RFC 5321 4.5.3.1.6)");
        }
        if (s.maxRecipients() < 1) {
            p.add("max-recipients: must be at least 1");
        }
        if (s.maxMessageSize() < 1024) {
            p.add("max-message-size: must be at least 1k");
        }
        if (s.maxConnections() < 1 || s.maxConnectionsPerClient() < 1) {
            p.add("max-connections, max-connections-per-client: must be at least 1");
        }
        if (s.commandTimeout().isNegative() || s.commandTimeout().isZero()
                || s.dataTimeout().isNegative() || s.dataTimeout().isZero()) {
            p.add("command-timeout, data-timeout: must be positive");
        }
        if (s.hostname().isBlank() || !s.hostname().matches("[A-Za-z0-9.-]+")) {
            p.add("hostname: must be a domain name");
        }
        if (c.journal().maxBatch() < 1) {
            p.add("journal-max-batch: must be at least 1");
        }
        if (c.delivery().retrySchedule().isEmpty()) {
            p.add("retry-schedule: needs at least one delay");
        }
        if (c.mynetworks().isEmpty()) {
            p.add("mynetworks: needs at least one network (no client could relay)");
        }
        return p;
    }
}

package dev.tern.config;

import dev.tern.tls.ServerTlsContext;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds the {@link RelayConfig}: defaults, then the config file, then flags, each later one winning. The config file
 * has one {@code key = value} per line; a {@code #} that starts a line or follows a blank starts a comment (so a value
 * such as {@code /srv/tern#2} keeps its {@code #}). Every problem (unknown key, bad value, failed
 * check) is collected, each with its line, and all of them are reported together in one {@link ConfigException}.
 */
public final class ConfigLoader {
    /** A dot-atom local part and a domain name of two labels or more (RFC 5321 4.1.2, ASCII only). */
    private static final Pattern MAILBOX = Pattern.compile(
            "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    + "@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+");

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
            for (Line line : readFile(file, problems).values()) {
                config = apply(config, line.key(), line.value(), file + ":" + line.number() + ": ", problems);
            }
        }
        for (Map.Entry<String, String> e : flags.entrySet()) {
            config = apply(config, e.getKey().toLowerCase(Locale.ROOT), e.getValue(), "--", problems);
        }
        problems.addAll(check(config));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    /** One {@code key = value} line of the file: the key lower-cased, the value trimmed, the line's number. */
    record Line(String key, String value, int number) {
    }

    /**
     * The file's settings by key, each from the last line that sets it (keys are case-insensitive); syntax problems
     * are added to {@code problems}, each with its line. A UTF-8 byte order mark is ignored; a line that is not UTF-8
     * is a problem of its own, not of the whole file.
     */
    static Map<String, Line> readFile(Path file, List<String> problems) {
        Map<String, Line> values = new LinkedHashMap<>();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            problems.add(file + ": does not exist");
            return values;
        } catch (IOException e) {
            problems.add(file + ": cannot read (" + e.getMessage() + ")");
            return values;
        }
        int start = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        for (int number = 1; start < bytes.length; number++) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            String line;
            try {
                line = utf8.decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
            } catch (CharacterCodingException e) {
                problems.add(file + ":" + number + ": not UTF-8");
                start = end + 1;
                continue;
            }
            start = end + 1;
            line = withoutComment(line);
            if (line.isBlank()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0 || line.substring(0, eq).isBlank()) {
                problems.add(file + ":" + number + ": expected 'key = value'");
                continue;
            }
            String key = line.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            values.remove(key); // the last line wins, in its place
            values.put(key, new Line(key, line.substring(eq + 1).trim(), number));
        }
        return values;
    }

    /**
     * The line up to its comment: a {@code #} first on the line or after a space or tab. A {@code #} inside a value
     * (a path, a host name) is part of it, as {@code --print-config} writes it.
     */
    private static String withoutComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || line.charAt(i - 1) == ' ' || line.charAt(i - 1) == '\t')) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    private static RelayConfig apply(RelayConfig config, String key, String value, String where,
                                     List<String> problems) {
        try {
            return set(config, key, value);
        } catch (IllegalArgumentException ex) {
            problems.add(where + key + ": " + ex.getMessage());
            return config;
        }
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
        s.postmaster().filter(m -> m.length() > 254 || !MAILBOX.matcher(m).matches()).ifPresent(m ->
                p.add("postmaster-address: must be a mailbox like postmaster@example.com, got '" + m + "'"));
        if (s.tlsMaxSessions() < 0) {
            p.add("tls-max-sessions: must not be negative (0: a quarter of the heap's worth)");
        }
        if (s.tlsRequired() && s.tlsCertificate().isEmpty()) {
            p.add("tls-required: needs tls-cert-file and tls-key-file (no client could send mail)");
        }
        if (s.tlsCertificate().isPresent() != s.tlsKey().isPresent()) {
            p.add("tls-cert-file, tls-key-file: set both (STARTTLS on) or neither (off)");
        } else if (s.tlsCertificate().isPresent()) {
            try {
                ServerTlsContext.load(s.tlsCertificate().get(), s.tlsKey().get(), 0);
            } catch (IllegalArgumentException e) {
                p.add("tls-cert-file, tls-key-file: " + e.getMessage());
            }
        }
        c.journal().problems().forEach(problem -> p.add("journal: " + problem));
        // A message, its envelope and trace header must fit one journal record (64 KiB of room for the last two).
        if (s.maxMessageSize() + (64 << 10) > c.journal().maxRecordBytes()) {
            p.add("max-message-size: must be at least 64k below journal-max-record-bytes ("
                    + c.journal().maxRecordBytes() + ")");
        }
        if (c.delivery().retrySchedule().isEmpty()) {
            p.add("retry-schedule: needs at least one delay");
        }
        if (c.dataDir().toString().isBlank()) {
            p.add("data-dir: must not be empty (it would be the working directory)");
        }
        if (c.mynetworks().isEmpty()) {
            p.add("mynetworks: needs at least one network (no client could relay)");
        }
        return p;
    }
}

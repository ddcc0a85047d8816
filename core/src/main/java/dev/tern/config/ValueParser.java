package dev.tern.config;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the text of a setting into the Java type of the record component it sets, chosen from the component's
 * generic type. Texts: sizes and counts accept binary suffixes ({@code 50m}, {@code 64k}, {@code 1g}); durations
 * {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 5d}; lists are comma separated; maps are
 * {@code key=value[|value...]} pairs separated by {@code ;}.
 */
final class ValueParser {
    /** A count and its optional unit, lower case and without underscores: see {@link #parseCount}. */
    private static final Pattern COUNT = Pattern.compile("([+-]?[0-9]+) *(?:([kmg])(?:i?b)?|b)?");

    private ValueParser() {
    }

    static Object parse(Type type, String text) {
        String t = text.trim();
        if (type instanceof ParameterizedType p) {
            Type raw = p.getRawType();
            Type[] args = p.getActualTypeArguments();
            if (raw == Optional.class) {
                return t.isEmpty() || t.equalsIgnoreCase("none") ? Optional.empty() : Optional.of(parse(args[0], t));
            }
            if (raw == List.class) {
                List<Object> out = new ArrayList<>();
                for (String part : t.split(",")) {
                    if (!part.isBlank()) {
                        out.add(parse(args[0], part));
                    }
                }
                return List.copyOf(out);
            }
            if (raw == Map.class) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (String entry : t.split(";")) {
                    if (entry.isBlank()) {
                        continue;
                    }
                    int eq = entry.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("expected KEY=VALUE in '" + entry.trim() + "'");
                    }
                    String value = entry.substring(eq + 1).replace('|', ',');
                    out.put(entry.substring(0, eq).trim().toLowerCase(Locale.ROOT), parse(args[1], value));
                }
                return Map.copyOf(out);
            }
        }
        if (type == String.class) {
            return t;
        }
        if (type == int.class || type == Integer.class) {
            long v = parseCount(t);
            if (v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("too large: " + t);
            }
            return (int) v;
        }
        if (type == long.class || type == Long.class) {
            return parseCount(t);
        }
        if (type == double.class || type == Double.class) {
            return Double.parseDouble(t);
        }
        if (type == boolean.class || type == Boolean.class) {
            return switch (t.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw new IllegalArgumentException("expected true or false, got '" + t + "'");
            };
        }
        if (type == Duration.class) {
            return parseDuration(t);
        }
        if (type == Path.class) {
            return Path.of(t);
        }
        if (type == HostPort.class) {
            return HostPort.parse(t);
        }
        if (type == Cidr.class) {
            return Cidr.parse(t);
        }
        if (type instanceof Class<?> c && c.isEnum()) {
            for (Object constant : c.getEnumConstants()) {
                if (((Enum<?>) constant).name().equalsIgnoreCase(t)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException("expected one of " + List.of(c.getEnumConstants()).toString()
                    .toLowerCase(Locale.ROOT) + ", got '" + t + "'");
        }
        if (type instanceof Class<?> c) {
            return parseWithFactory(c, t);
        }
        throw new IllegalArgumentException("no parser for " + type.getTypeName());
    }

    /** Any other setting type supplies {@code public static T parse(String)}, whose message explains a bad value. */
    private static Object parseWithFactory(Class<?> c, String t) {
        java.lang.reflect.Method parse;
        try {
            parse = c.getMethod("parse", String.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("setting type " + c.getName() + " has no static parse(String)");
        }
        try {
            return parse.invoke(null, t);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause() instanceof IllegalArgumentException iae ? iae
                    : new IllegalArgumentException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Renders a value the way {@link #parse} reads it, for help texts and {@code tern relay --print-config}. */
    static String format(Object value) {
        return switch (value) {
            case null -> "";
            case Optional<?> o -> o.map(ValueParser::format).orElse("");
            case List<?> l -> String.join(",", l.stream().map(ValueParser::format).toList());
            case Map<?, ?> m -> String.join(";", m.entrySet().stream()
                    .map(e -> e.getKey() + "=" + format(e.getValue()).replace(',', '|')).toList());
            case Duration d -> formatDuration(d);
            case Enum<?> e -> e.name().toLowerCase(Locale.ROOT);
            default -> value.toString();
        };
    }

    /**
     * A decimal count, optionally followed by a binary unit: k, m or g (also written kb/kib, mb/mib, gb/gib), or b
     * for bytes; underscores may group digits. Anything else, "1ib" or "1.5k" say, is refused.
     */
    private static long parseCount(String t) {
        Matcher m = COUNT.matcher(t.trim().toLowerCase(Locale.ROOT).replace("_", ""));
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a number (optionally with k, m or g), got '" + t + "'");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            default -> 30;
        };
        try {
            long v = Long.parseLong(m.group(1));
            if (v < 0) {
                throw new IllegalArgumentException("must not be negative: " + t);
            }
            return Math.multiplyExact(v, 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("number too large: '" + t + "'");
        }
    }

    /**
     * A decimal count and one of ms, s, m, h, d. A duration must fit in a long of nanoseconds (about 292 years), so
     * that every use of it ({@code toMillis}, {@code toNanos}, a deadline) works; a larger one is refused here, as a
     * setting's problem, rather than overflowing later.
     */
    private static Duration parseDuration(String t) {
        String s = t.toLowerCase(Locale.ROOT);
        try {
            Duration d;
            if (s.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            } else {
                long n = Long.parseLong(s.substring(0, s.length() - 1));
                d = switch (s.charAt(s.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    case 'd' -> Duration.ofDays(n);
                    default -> throw new NumberFormatException();
                };
            }
            d.toNanos(); // throws beyond a long of nanoseconds
            return d;
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("expected a duration like 500ms, 30s, 5m, 1h or 5d, got '" + t + "'");
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("duration too large (at most about 292 years): '" + t + "'");
        }
    }

    private static String formatDuration(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms > 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}

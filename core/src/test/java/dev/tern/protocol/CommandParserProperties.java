package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.message.Envelope;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * {@link CommandParser} against an independent model of the RFC 5321 4.1.2/4.1.3 path grammar and of the ESMTP
 * parameters (RFC 1870, 6152, 6531, 3461), on paths and parameter lists built from grammar pieces and near-misses.
 * The model is regular expressions plus the 4.5.3.1 length limits, written from the ABNF, not from the parser. It
 * encodes two choices the parser documents or implies beyond the bare ABNF (see {@link #literal}). jqwik prints the
 * seed of a failure.
 */
class CommandParserProperties {

    private static final int MAX_COMMAND_LINE = 512;

    // ---------------------------------------------------------------- the model (RFC 5321 4.1.2, 4.1.3)

    private static final String ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]";
    private static final String DOT_STRING = ATEXT + "+(?:\\." + ATEXT + "+)*";
    /** qtextSMTP = %d32-33 / %d35-91 / %d93-126; quoted-pairSMTP = %d92 %d32-126. */
    private static final String QUOTED_STRING = "\"(?:[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\x20-\\x7E])*\"";
    private static final Pattern LOCAL_PART = Pattern.compile(DOT_STRING + "|" + QUOTED_STRING);
    /** sub-domain = Let-dig [Ldh-str]; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig. */
    private static final String SUB_DOMAIN = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    private static final Pattern DOMAIN = Pattern.compile(SUB_DOMAIN + "(?:\\." + SUB_DOMAIN + ")*");
    /** Snum = 1*3DIGIT, a value 0 through 255. */
    private static final String SNUM = "(?:[01]?[0-9]?[0-9]|2[0-4][0-9]|25[0-5])";
    private static final Pattern IPV4 = Pattern.compile(SNUM + "(?:\\." + SNUM + "){3}");
    private static final Pattern HEX_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");
    /** dcontent = %d33-90 / %d94-126. */
    private static final Pattern DCONTENT = Pattern.compile("[\\x21-\\x5A\\x5E-\\x7E]+");

    /** The mailbox of a valid reverse-path ({@code ""} for {@code <>}), or null when the path is invalid. */
    static String reversePath(String path) {
        return path.equals("<>") ? "" : path(path);
    }

    /** The mailbox of a valid forward-path, or null. RFC 5321 4.1.1.3: {@code <Postmaster>} in any case. */
    static String forwardPath(String path) {
        if (path.equalsIgnoreCase("<postmaster>")) {
            return path.substring(1, path.length() - 1);
        }
        return path(path);
    }

    /** Path = "<" [ A-d-l ":" ] Mailbox ">", at most 256 octets (4.5.3.1.3). */
    private static String path(String p) {
        if (p.length() < 2 || p.charAt(0) != '<' || p.charAt(p.length() - 1) != '>' || p.length() > 256) {
            return null;
        }
        String inner = p.substring(1, p.length() - 1);
        String mailbox = inner;
        if (inner.startsWith("@")) {
            // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain. Domains hold no ':', so the first one
            // ends it.
            int colon = inner.indexOf(':');
            if (colon < 0) {
                return null;
            }
            for (String atDomain : inner.substring(0, colon).split(",", -1)) {
                if (!atDomain.startsWith("@") || !domain(atDomain.substring(1))) {
                    return null;
                }
            }
            mailbox = inner.substring(colon + 1);
        }
        return mailbox(mailbox) ? mailbox : null;
    }

    /** Mailbox = Local-part "@" ( Domain / address-literal ); local part at most 64 octets, domain 255. */
    private static boolean mailbox(String m) {
        // The local part may hold '@' when quoted, a general literal in its dcontent: try every split.
        for (int at = m.indexOf('@'); at >= 0; at = m.indexOf('@', at + 1)) {
            if (mailbox(m.substring(0, at), m.substring(at + 1))) {
                return true;
            }
        }
        return false;
    }

    private static boolean mailbox(String local, String domain) {
        if (!LOCAL_PART.matcher(local).matches() || local.length() > 64 || domain.length() > 255) {
            return false;
        }
        if (domain.startsWith("[") && domain.endsWith("]") && domain.length() >= 2) {
            return literal(domain.substring(1, domain.length() - 1));
        }
        return domain(domain);
    }

    /** Labels of at most 63 octets (RFC 1035 2.3.4), the whole at most 255 (4.5.3.1.2). */
    private static boolean domain(String d) {
        if (!DOMAIN.matcher(d).matches() || d.length() > 255) {
            return false;
        }
        for (String label : d.split("\\.")) {
            if (label.length() > 63) {
                return false;
            }
        }
        return true;
    }

    /**
     * address-literal = IPv4-address-literal / IPv6-address-literal / General-address-literal, where
     * General-address-literal = Standardized-tag ":" 1*dcontent. Beyond the bare ABNF: the tag "IPv6" always means
     * an IPv6 address (it is the one registered tag), and a literal starting with a digit is an IPv4 address (no
     * registered tag starts with a digit or a hyphen).
     */
    private static boolean literal(String l) {
        if (IPV4.matcher(l).matches()) {
            return true;
        }
        if (l.isEmpty() || Character.isDigit(l.charAt(0))) {
            return false;
        }
        int colon = l.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        String tag = l.substring(0, colon);
        String content = l.substring(colon + 1);
        if (tag.equalsIgnoreCase("IPv6")) {
            return ipv6(content);
        }
        return Pattern.matches("[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?", tag) && DCONTENT.matcher(content).matches();
    }

    /**
     * RFC 5321 4.1.3 IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp. A trailing IPv4 address counts as
     * two groups. Note: 4.1.3 allows at most 6 groups beside a "::"; Tern accepts 7 as RFC 4291 2.2 does (a "::"
     * standing for a single group of zeros), and so does this model.
     */
    static boolean ipv6(String a) {
        int dbl = a.indexOf("::");
        if (dbl >= 0 && a.indexOf("::", dbl + 1) >= 0) {
            return false;
        }
        List<String> groups = new ArrayList<>();
        if (dbl >= 0) {
            String left = a.substring(0, dbl);
            String right = a.substring(dbl + 2);
            if (!left.isEmpty()) {
                groups.addAll(List.of(left.split(":", -1)));
            }
            if (!right.isEmpty()) {
                groups.addAll(List.of(right.split(":", -1)));
            }
        } else {
            groups.addAll(List.of(a.split(":", -1)));
        }
        int count = 0;
        for (int i = 0; i < groups.size(); i++) {
            String g = groups.get(i);
            boolean lastOfAll = i == groups.size() - 1 && (dbl < 0 || a.endsWith(g) && !a.endsWith("::"));
            if (HEX_GROUP.matcher(g).matches()) {
                count++;
            } else if (lastOfAll && IPV4.matcher(g).matches()) {
                count += 2;
            } else {
                return false;
            }
        }
        return dbl >= 0 ? count <= 7 : count == 8;
    }

    // ---------------------------------------------------------------- generators

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> structured = Combinators.combine(adl(), localParts(), domains())
                .as((adl, local, domain) -> "<" + adl + local + "@" + domain + ">");
        Arbitrary<String> mutated = Combinators.combine(structured, Arbitraries.integers().between(0, 400),
                        Arbitraries.of("", ".", "-", "@", "<", ">", ":", ",", "\"", "\\", "[", "]", "(", " ", "\u007f",
                                "\u0001", "a", "9"),
                        Arbitraries.integers().between(0, 2))
                .as((p, at, s, del) -> {
                    int i = Math.floorMod(at, p.length() + 1);
                    int j = Math.min(p.length(), i + del);
                    return p.substring(0, i) + s + p.substring(j);
                });
        Arbitrary<String> noise = Arbitraries.strings().withChars("<>@.:,\"\\[]aZ0-_ ").ofMaxLength(16)
                .map(s -> "<" + s + ">");
        return Arbitraries.frequencyOf(Tuple.of(4, structured), Tuple.of(5, mutated), Tuple.of(1, noise),
                Tuple.of(1, Arbitraries.of("<>", "<Postmaster>", "<pOSTMASTER>", "<postmaster@x.example>",
                        "<@a.example:Postmaster>", "<Postmaster >", "<>>", "<", ">", "<<>>", "")));
    }

    private Arbitrary<String> adl() {
        Arbitrary<String> one = domains().filter(d -> !d.startsWith("[")).map(d -> "@" + d);
        Arbitrary<String> list = one.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join(",", l) + ":");
        return Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just("")), Tuple.of(1, list));
    }

    private Arbitrary<String> localParts() {
        Arbitrary<String> atom = Arbitraries.strings().withChars("abcXYZ019!#$%&'*+-/=?^_`{|}~").ofMinLength(1)
                .ofMaxLength(8);
        Arbitrary<String> dotString = atom.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        Arbitrary<String> quoted = Arbitraries.strings().withChars("ab @.<>:\"\\,[]()").ofMaxLength(10)
                .map(s -> "\"" + s + "\"");
        Arbitrary<String> longLocal = Arbitraries.integers().between(60, 68).map("l"::repeat);
        return Arbitraries.frequencyOf(Tuple.of(6, dotString), Tuple.of(2, quoted), Tuple.of(1, longLocal));
    }

    private Arbitrary<String> domains() {
        Arbitrary<String> rawLabel = Arbitraries.strings().withChars("abz09-").ofMinLength(1).ofMaxLength(6);
        Arbitrary<String> goodLabel = Combinators.combine(Arbitraries.strings().withChars("abZ09").ofLength(1),
                        Arbitraries.strings().withChars("ab9-").ofMaxLength(4),
                        Arbitraries.strings().withChars("aZ09").ofLength(1), Arbitraries.of(true, false))
                .as((first, middle, last, one) -> one ? first : first + middle + last);
        Arbitrary<String> label = Arbitraries.frequencyOf(Tuple.of(4, goodLabel), Tuple.of(1, rawLabel));
        Arbitrary<String> longLabel = Arbitraries.integers().between(61, 65).map("d"::repeat);
        Arbitrary<String> anyLabel = Arbitraries.frequencyOf(Tuple.of(12, label), Tuple.of(1, longLabel));
        Arbitrary<String> name = anyLabel.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
        Arbitrary<String> manyLabels = Arbitraries.integers().between(60, 66)
                .map(n -> String.join(".", java.util.Collections.nCopies(n, "abcd")));
        Arbitrary<Integer> octet = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.integers().between(0, 255)),
                Tuple.of(1, Arbitraries.integers().between(256, 999)));
        Arbitrary<String> v4 = octet.list().ofMinSize(3).ofMaxSize(5)
                .map(l -> String.join(".", l.stream().map(String::valueOf).toList()));
        Arbitrary<String> group = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofMinLength(1).ofMaxLength(4)),
                Tuple.of(1, Arbitraries.strings().withChars("0123456789abcdefABCDEFg").ofMinLength(0).ofMaxLength(5)));
        Arbitrary<Integer> groupCount = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of(8, 6, 7)),
                Tuple.of(2, Arbitraries.integers().between(1, 9)));
        Arbitrary<String> v6 = Combinators.combine(groupCount.flatMap(n -> group.list().ofSize(n)),
                        Arbitraries.integers().between(-1, 9), Arbitraries.of(true, false, false), v4,
                        Arbitraries.of("IPv6:", "ipv6:", "IPV6:", "IPv7:"))
                .as((gs, compressAt, withV4, four, tag) -> {
                    List<String> parts = new ArrayList<>(gs);
                    if (withV4) {
                        parts.add(four);
                    }
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < parts.size(); i++) {
                        if (i > 0) {
                            sb.append(i == compressAt ? "::" : ":");
                        }
                        sb.append(parts.get(i));
                    }
                    if (compressAt == 0) {
                        sb.insert(0, "::");
                    } else if (compressAt >= parts.size()) {
                        sb.append("::");
                    }
                    return "[" + tag + sb + "]";
                });
        Arbitrary<String> compressed = Combinators.combine(
                        Arbitraries.integers().between(0, 0xFFFF).list().ofSize(8),
                        Arbitraries.integers().between(0, 8), Arbitraries.integers().between(0, 8))
                .as((gs, a, b) -> {
                    List<String> hex = gs.stream().map(Integer::toHexString).toList();
                    int from = Math.min(a, b);
                    int to = Math.max(a, b);
                    if (from == to) {
                        return "[IPv6:" + String.join(":", hex) + "]";
                    }
                    return "[IPv6:" + String.join(":", hex.subList(0, from)) + "::"
                            + String.join(":", hex.subList(to, 8)) + "]";
                });
        Arbitrary<String> general = Combinators.combine(Arbitraries.of("x-tag", "X", "-x", "x-", "tag1"),
                        Arbitraries.strings().withChars("abc:!Z~\\[]^ ").ofMaxLength(6))
                .as((t, c) -> "[" + t + ":" + c + "]");
        return Arbitraries.frequencyOf(Tuple.of(8, name), Tuple.of(1, manyLabels), Tuple.of(3, v4.map(s -> "[" + s
                + "]")), Tuple.of(3, v6), Tuple.of(2, compressed), Tuple.of(1, general));
    }

    // ---------------------------------------------------------------- running the parser

    /** Parses {@code line} from a buffer that holds other octets before and after it. */
    private static Command parse(byte[] line, int[] status) {
        byte[] padded = new byte[line.length + 6];
        java.util.Arrays.fill(padded, (byte) '>');
        System.arraycopy(line, 0, padded, 3, line.length);
        ByteBuffer in = ByteBuffer.wrap(padded);
        Command c = new Command();
        status[0] = new CommandParser(MAX_COMMAND_LINE).parse(in, 3, 3 + line.length, c);
        return c;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    // ---------------------------------------------------------------- paths

    @Property(tries = 3000)
    void mailPathAgreesWithTheGrammar(@ForAll("paths") String path) {
        int[] status = new int[1];
        byte[] line = ascii("MAIL FROM:" + path);
        Command c = parse(line, status);
        if (line.length + 2 > new CommandParser(MAX_COMMAND_LINE).maxLine(Verb.MAIL)) {
            assertThat(ParseStatus.name(status[0])).isEqualTo("LINE_TOO_LONG"); // checked before anything else
            return;
        }
        String expected = reversePath(strip(path));
        assertStatus(status[0], expected, path, "MAIL FROM:");
        if (expected != null) {
            assertThat(c.verb()).isEqualTo(Verb.MAIL);
            assertThat(c.text(c.pathStart(), c.pathEnd())).isEqualTo(expected);
            assertThat(c.utf8()).isFalse();
        }
    }

    @Property(tries = 3000)
    void rcptPathAgreesWithTheGrammar(@ForAll("paths") String path) {
        int[] status = new int[1];
        byte[] line = ascii("RCPT TO:" + path);
        Command c = parse(line, status);
        if (line.length + 2 > new CommandParser(MAX_COMMAND_LINE).maxLine(Verb.RCPT)) {
            assertThat(ParseStatus.name(status[0])).isEqualTo("LINE_TOO_LONG"); // checked before anything else
            return;
        }
        String expected = forwardPath(strip(path));
        assertStatus(status[0], expected, path, "RCPT TO:");
        if (expected != null) {
            assertThat(c.text(c.pathStart(), c.pathEnd())).isEqualTo(expected);
        }
    }

    /**
     * The parser's documented leniency: spaces before the path ({@code MAIL FROM: <a@b>}) and trailing spaces are
     * ignored; the model judges the path without them.
     */
    private static String strip(String path) {
        return path.replaceAll("^ +| +$", "");
    }

    private static void assertStatus(int status, String expected, String path, String command) {
        String name = ParseStatus.name(status);
        if (expected != null) {
            assertThat(name).as("%s%s", command, path).isEqualTo("OK");
        } else if (strip(path).isEmpty()) {
            assertThat(name).as("%s%s", command, path).isEqualTo("SYNTAX");
        } else if (strip(path).indexOf(' ') < 0) {
            assertThat(name).as("%s%s", command, path).isEqualTo("BAD_PATH");
        } else {
            // A space may end the path and start (bad) parameters: any refusal, but never OK.
            assertThat(name).as("%s%s", command, path).isIn("BAD_PATH", "SYNTAX", "UNKNOWN_PARAM",
                    "BAD_PARAM_VALUE");
        }
    }

    @Provide
    Arbitrary<String> utf8Words() {
        return Arbitraries.of("j\u00fcrgen", "\u00e9", "\u4f8b\u3048", "\ud83d\udce7", "caf\u00e9");
    }

    /** RFC 6531 3.3: UTF-8 in a mailbox is allowed only with SMTPUTF8, and only when it is well-formed. */
    @Property(tries = 1000)
    void utf8InAPathNeedsSmtputf8AndWellFormedUtf8(@ForAll("utf8Words") String word, @ForAll boolean inDomain,
                                                    @ForAll boolean smtputf8, @ForAll @IntRange(max = 4) int damage) {
        String local = inDomain ? "user" : word;
        String domain = inDomain ? word + ".example" : "example.org";
        byte[] path = ("<" + local + "@" + domain + ">").getBytes(StandardCharsets.UTF_8);
        boolean broken = damage == 1;
        if (broken) {
            // Cut the last octet of the first multi-octet sequence: no longer well-formed UTF-8.
            int i = 0;
            while ((path[i] & 0x80) == 0) {
                i++;
            }
            byte[] shorter = new byte[path.length - 1];
            int seqEnd = i + 1;
            while (seqEnd < path.length && (path[seqEnd] & 0xC0) == 0x80) {
                seqEnd++;
            }
            System.arraycopy(path, 0, shorter, 0, seqEnd - 1);
            System.arraycopy(path, seqEnd, shorter, seqEnd - 1, path.length - seqEnd);
            path = shorter;
        }
        byte[] line = concat(ascii("MAIL FROM:"), path, ascii(smtputf8 ? " SMTPUTF8" : ""));
        int[] status = new int[1];
        Command c = parse(line, status);
        if (broken) {
            assertThat(ParseStatus.name(status[0])).isEqualTo("BAD_PATH");
        } else if (!smtputf8) {
            assertThat(ParseStatus.name(status[0])).isEqualTo("UTF8_PATH_WITHOUT_SMTPUTF8");
        } else {
            assertThat(ParseStatus.name(status[0])).isEqualTo("OK");
            assertThat(c.utf8()).isTrue();
            assertThat(c.text(c.pathStart(), c.pathEnd())).isEqualTo(local + "@" + domain);
        }
    }

    // ---------------------------------------------------------------- MAIL parameters

    @Provide
    Arbitrary<List<String>> mailParams() {
        Arbitrary<String> size = Arbitraries.strings().withChars("0123456789").ofMinLength(1).ofMaxLength(22)
                .map(d -> "SIZE=" + d);
        Arbitrary<String> xtext = Arbitraries.strings().withChars("abc+2B0fF!~=\u00e9").ofMinLength(1).ofMaxLength(8);
        Arbitrary<String> envid = Arbitraries.frequencyOf(Tuple.of(4, xtext),
                        Tuple.of(1, Arbitraries.integers().between(99, 102).map("e"::repeat)))
                .map(v -> "ENVID=" + v);
        Arbitrary<String> fixed = Arbitraries.of("BODY=7BIT", "body=8bitmime", "BODY=BINARYMIME", "BODY=", "RET=FULL",
                "ret=hdrs", "RET=NONE", "SMTPUTF8", "SMTPUTF8=yes", "SIZE", "SIZE=12x", "XFOO=1", "AUTH=<>",
                "NOTIFY=NEVER", "SIZE=-1");
        return Arbitraries.oneOf(size, envid, fixed, fixed).list().ofMaxSize(5);
    }

    /** The model of MAIL parameters: each checked in order, the first problem decides. */
    private record MailModel(String status, long size, int body, int ret, String envid, boolean smtputf8) {
    }

    private static MailModel mailModel(List<String> params) {
        long size = -1;
        int body = Envelope.BODY_UNSPECIFIED;
        int ret = Envelope.RET_UNSPECIFIED;
        String envid = "";
        boolean utf8 = false;
        List<String> seen = new ArrayList<>();
        for (String p : params) {
            int eq = p.indexOf('=');
            String key = (eq < 0 ? p : p.substring(0, eq)).toUpperCase(Locale.ROOT);
            String value = eq < 0 ? null : p.substring(eq + 1);
            // esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 adds UTF-8.
            if (value != null && !value.matches("[\\x21-\\x3C\\x3E-\\x7E\\u0080-\\uFFFF]+")) {
                return new MailModel("BAD_PARAM_VALUE", 0, 0, 0, "", false);
            }
            if (!List.of("SIZE", "BODY", "SMTPUTF8", "RET", "ENVID").contains(key)) {
                return new MailModel("UNKNOWN_PARAM", 0, 0, 0, "", false);
            }
            if (seen.contains(key)) {
                return new MailModel("BAD_PARAM_VALUE", 0, 0, 0, "", false);
            }
            seen.add(key);
            boolean good = switch (key) {
                case "SMTPUTF8" -> value == null;
                // RFC 1870: size-value = 1*20DIGIT; a value beyond a long is simply very large.
                case "SIZE" -> value != null && value.matches("[0-9]{1,20}");
                case "BODY" -> value != null && (value.equalsIgnoreCase("7BIT") || value.equalsIgnoreCase("8BITMIME"));
                case "RET" -> value != null && (value.equalsIgnoreCase("FULL") || value.equalsIgnoreCase("HDRS"));
                // RFC 3461 4: xtext, at most 100 characters.
                default -> value != null && value.length() <= 100
                        && value.matches("(?:[\\x21-\\x2A\\x2C-\\x3C\\x3E-\\x7E]|\\+[0-9A-Fa-f]{2})*");
            };
            if (!good) {
                return new MailModel("BAD_PARAM_VALUE", 0, 0, 0, "", false);
            }
            switch (key) {
                case "SMTPUTF8" -> utf8 = true;
                case "SIZE" -> {
                    // Beyond a long the value saturates; the parser saturates within 8 of Long.MAX_VALUE already.
                    java.math.BigInteger v = new java.math.BigInteger(value);
                    size = v.compareTo(java.math.BigInteger.valueOf(Long.MAX_VALUE - 8)) > 0 ? Long.MAX_VALUE
                            : v.longValue();
                }
                case "BODY" -> body = value.equalsIgnoreCase("7BIT") ? Envelope.BODY_7BIT : Envelope.BODY_8BITMIME;
                case "RET" -> ret = value.equalsIgnoreCase("FULL") ? Envelope.RET_FULL : Envelope.RET_HDRS;
                default -> envid = value;
            }
        }
        return new MailModel("OK", size, body, ret, envid, utf8);
    }

    @Property(tries = 3000)
    void mailParametersAgreeWithTheModel(@ForAll("mailParams") List<String> params, @ForAll @IntRange(min = 1,
            max = 3) int spaces) {
        String line = "MAIL FROM:<a@b.example>" + (params.isEmpty() ? "" : " ".repeat(spaces)
                + String.join(" ".repeat(spaces), params));
        int[] status = new int[1];
        Command c = parse(line.getBytes(StandardCharsets.UTF_8), status);
        MailModel m = mailModel(params);
        assertThat(ParseStatus.name(status[0])).as(line).isEqualTo(m.status());
        if (m.status().equals("OK")) {
            assertThat(c.size()).as(line).isEqualTo(m.size());
            assertThat(c.body()).isEqualTo(m.body());
            assertThat(c.ret()).isEqualTo(m.ret());
            assertThat(c.smtputf8()).isEqualTo(m.smtputf8());
            assertThat(c.text(c.envidStart(), c.envidEnd())).isEqualTo(m.envid());
        }
    }

    // ---------------------------------------------------------------- RCPT parameters

    @Provide
    Arbitrary<List<String>> rcptParams() {
        Arbitrary<String> notify = Arbitraries.of("SUCCESS", "failure", "Delay", "NEVER", "", "x").list().ofMinSize(1)
                .ofMaxSize(4).map(l -> "NOTIFY=" + String.join(",", l));
        Arbitrary<String> orcpt = Combinators.combine(Arbitraries.of("rfc822", "utf-8", "x-type", "", "r;x", "r@"),
                        Arbitraries.strings().withChars("ab@.+2B0=\u00e9").ofMaxLength(8))
                .as((type, text) -> "ORCPT=" + type + ";" + text);
        Arbitrary<String> fixed = Arbitraries.of("NOTIFY", "ORCPT", "SIZE=1", "NOTIFY=NEVER,SUCCESS", "ORCPT=;x");
        return Arbitraries.oneOf(notify, orcpt, fixed).list().ofMaxSize(3);
    }

    private record RcptModel(String status, int notifyFlags, String orcpt, boolean utf8) {
    }

    private static RcptModel rcptModel(List<String> params) {
        int notify = 0;
        String orcpt = "";
        boolean utf8 = false;
        List<String> seen = new ArrayList<>();
        RcptModel badValue = new RcptModel("BAD_PARAM_VALUE", 0, "", false);
        for (String p : params) {
            int eq = p.indexOf('=');
            String key = (eq < 0 ? p : p.substring(0, eq)).toUpperCase(Locale.ROOT);
            String value = eq < 0 ? null : p.substring(eq + 1);
            if (value != null && !value.matches("[\\x21-\\x3C\\x3E-\\x7E\\u0080-\\uFFFF]+")) {
                return badValue;
            }
            if (!key.equals("NOTIFY") && !key.equals("ORCPT")) {
                return new RcptModel("UNKNOWN_PARAM", 0, "", false);
            }
            if (seen.contains(key) || value == null) {
                return badValue;
            }
            seen.add(key);
            if (key.equals("NOTIFY")) {
                // RFC 3461 4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY.
                if (value.equalsIgnoreCase("NEVER")) {
                    notify = Envelope.NOTIFY_NEVER;
                    continue;
                }
                for (String word : value.split(",", -1)) {
                    switch (word.toUpperCase(Locale.ROOT)) {
                        case "SUCCESS" -> notify |= Envelope.NOTIFY_SUCCESS;
                        case "FAILURE" -> notify |= Envelope.NOTIFY_FAILURE;
                        case "DELAY" -> notify |= Envelope.NOTIFY_DELAY;
                        default -> {
                            return badValue;
                        }
                    }
                }
            } else {
                // RFC 3461 4.2: addr-type ";" xtext (Tern: a non-empty xtext, at most 500 octets); RFC 6533: UTF-8
                // for the utf-8 type only.
                int semi = value.indexOf(';');
                String type = semi < 0 ? "" : value.substring(0, semi);
                String text = semi < 0 ? "" : value.substring(semi + 1);
                boolean utf8Type = type.equalsIgnoreCase("utf-8");
                String xchar = utf8Type ? "[\\x21-\\x2A\\x2C-\\x3C\\x3E-\\x7E\\u0080-\\uFFFF]"
                        : "[\\x21-\\x2A\\x2C-\\x3C\\x3E-\\x7E]";
                if (!type.matches("[A-Za-z0-9-]+") || !text.matches("(?:" + xchar + "|\\+[0-9A-Fa-f]{2})+")
                        || value.getBytes(StandardCharsets.UTF_8).length > 500) {
                    return badValue;
                }
                orcpt = value;
                utf8 |= !text.chars().allMatch(ch -> ch < 0x80);
            }
        }
        return new RcptModel("OK", notify, orcpt, utf8);
    }

    @Property(tries = 2000)
    void rcptParametersAgreeWithTheModel(@ForAll("rcptParams") List<String> params) {
        String line = "RCPT TO:<a@b.example>" + (params.isEmpty() ? "" : " " + String.join(" ", params));
        int[] status = new int[1];
        Command c = parse(line.getBytes(StandardCharsets.UTF_8), status);
        RcptModel m = rcptModel(params);
        assertThat(ParseStatus.name(status[0])).as(line).isEqualTo(m.status());
        if (m.status().equals("OK")) {
            assertThat(c.notifyFlags()).as(line).isEqualTo(m.notifyFlags());
            assertThat(c.text(c.orcptStart(), c.orcptEnd())).isEqualTo(m.orcpt());
            assertThat(c.utf8()).isEqualTo(m.utf8());
        }
    }

    // ---------------------------------------------------------------- BDAT

    @Property(tries = 2000)
    void bdatChunkSizeRoundTrips(@ForAll @LongRange(min = 0, max = 999_999_999_999_999_999L) long size,
                                 @ForAll boolean last, @ForAll @IntRange(max = 2) int zeros) {
        String digits = "0".repeat(zeros) + size;
        int[] status = new int[1];
        Command c = parse(ascii("BDAT " + digits + (last ? " LAST" : "")), status);
        if (digits.length() > 18) {
            assertThat(ParseStatus.name(status[0])).isEqualTo("SYNTAX"); // RFC 3030 leaves the digits unbounded
        } else {
            assertThat(ParseStatus.name(status[0])).isEqualTo("OK");
            assertThat(c.chunkSize()).isEqualTo(size);
            assertThat(c.last()).isEqualTo(last);
        }
    }

    // ---------------------------------------------------------------- hostile lines

    @Provide
    Arbitrary<byte[]> hostileLines() {
        Arbitrary<String> prefix = Arbitraries.of("", "MAIL FROM:", "RCPT TO:", "MAIL FROM:<a@b> ", "RCPT TO:<a@b> ",
                "EHLO ", "BDAT ", "STARTTLS", "mail from:<");
        Arbitrary<byte[]> tail = Arbitraries.bytes().list().ofMaxSize(700).map(l -> {
            byte[] b = new byte[l.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = l.get(i);
            }
            return b;
        });
        return Combinators.combine(prefix, tail).as((p, t) -> concat(ascii(p), t));
    }

    /**
     * The parser reads only {@code in[start, end)}: the same line inside different surrounding octets, in either byte
     * order, gives the same status and the same view; it never throws and never reports a range outside the line.
     */
    @Property(tries = 2000)
    void resultDoesNotDependOnOctetsOutsideTheLine(@ForAll("hostileLines") byte[] line, @ForAll byte around,
                                                   @ForAll boolean littleEndian) {
        byte[] a = new byte[line.length + 8];
        byte[] b = new byte[line.length + 8];
        java.util.Arrays.fill(a, around);
        java.util.Arrays.fill(b, (byte) ~around);
        System.arraycopy(line, 0, a, 4, line.length);
        System.arraycopy(line, 0, b, 4, line.length);
        ByteBuffer inA = ByteBuffer.wrap(a);
        ByteBuffer inB = ByteBuffer.wrap(b).order(littleEndian ? java.nio.ByteOrder.LITTLE_ENDIAN
                : java.nio.ByteOrder.BIG_ENDIAN);
        Command ca = new Command();
        Command cb = new Command();
        int sa = new CommandParser(MAX_COMMAND_LINE).parse(inA, 4, 4 + line.length, ca);
        int sb = new CommandParser(MAX_COMMAND_LINE).parse(inB, 4, 4 + line.length, cb);
        assertThat(sb).isEqualTo(sa);
        assertThat(cb.verb()).isEqualTo(ca.verb());
        if (sa == ParseStatus.OK && (ca.verb() == Verb.MAIL || ca.verb() == Verb.RCPT)) {
            assertThat(ca.pathStart()).isBetween(4, 4 + line.length);
            assertThat(ca.pathEnd()).isBetween(ca.pathStart(), 4 + line.length);
            assertThat(new int[] {cb.pathStart(), cb.pathEnd(), cb.envidStart(), cb.envidEnd(), cb.orcptStart(),
                cb.orcptEnd()}).containsExactly(ca.pathStart(), ca.pathEnd(), ca.envidStart(), ca.envidEnd(),
                    ca.orcptStart(), ca.orcptEnd());
            assertThat(cb.size()).isEqualTo(ca.size());
            assertThat(cb.notifyFlags()).isEqualTo(ca.notifyFlags());
        }
        if (sa == ParseStatus.OK) {
            assertThat(line.length + 2).isLessThanOrEqualTo(new CommandParser(MAX_COMMAND_LINE).maxLine(ca.verb()));
        }
    }

    // ---------------------------------------------------------------- the model's own sanity

    @Example
    void modelAcceptsAndRejectsTheTextbookCases() {
        assertThat(reversePath("<>")).isEmpty();
        assertThat(forwardPath("<>")).isNull();
        assertThat(forwardPath("<PostMaster>")).isEqualTo("PostMaster");
        assertThat(reversePath("<Postmaster>")).isNull();
        assertThat(reversePath("<@a.example,@b.example:u@c.example>")).isEqualTo("u@c.example");
        assertThat(reversePath("<\"a b\\\"c\"@x.example>")).isEqualTo("\"a b\\\"c\"@x.example");
        assertThat(reversePath("<a..b@x.example>")).isNull();
        assertThat(reversePath("<a@-x.example>")).isNull();
        assertThat(reversePath("<a@[192.0.2.255]>")).isEqualTo("a@[192.0.2.255]");
        assertThat(reversePath("<a@[192.0.2.256]>")).isNull();
        assertThat(ipv6("2001:db8::1")).isTrue();
        assertThat(ipv6("1:2:3:4:5:6:7:8")).isTrue();
        assertThat(ipv6("1:2:3:4:5:6:7:8:9")).isFalse();
        assertThat(ipv6("::ffff:192.0.2.1")).isTrue();
        assertThat(ipv6("1:2:3:4:5:6:192.0.2.1")).isTrue();
        assertThat(ipv6("1::2::3")).isFalse();
        assertThat(ipv6("1:2:3:4:5:6:7::")).isTrue(); // RFC 4291 form, see ipv6()
        assertThat(ipv6("192.0.2.1::")).isFalse();
        assertThat(reversePath("<a@" + "d".repeat(64) + ".example>")).isNull();
        assertThat(reversePath("<" + "l".repeat(65) + "@x.example>")).isNull();
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] r = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }
}

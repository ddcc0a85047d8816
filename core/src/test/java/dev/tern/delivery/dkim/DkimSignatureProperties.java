package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.interfaces.RSAPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * DKIM signatures of generated messages, checked end to end: folded, repeated, odd-case, empty, near-998-octet and
 * 8-bit header fields, From: values with display names, comments and several mailboxes, and bodies that are empty,
 * blank, whitespace-laden, long, dot-only, 8-bit, with or without a final CRLF; RSA, Ed25519 and both keys; every
 * configured signed-header list, with and without x=.
 *
 * <p>The signer is driven as {@code DeliveryEngine.signature(...)} drives it: {@code signer.stream(envelopeDomain)}
 * fed the stored (unstuffed) message in pieces. What is verified is what the engine sends (the signature fields, then
 * the stored message with every line end as CRLF and a final CRLF, RFC 5321 4.1.1.4), as the receiver has it once the
 * transparency dots are removed. dkimpy verifies in batches (one python run per property) to keep the class fast.
 * The body hash is compared with a model of RFC 6376 3.4.4 written here, the signature field with the grammar of
 * RFC 6376 3.2/3.5. jqwik prints the seed of a failure; the message is printed escaped.
 */
class DkimSignatureProperties {

    private static final int BATCH = 300;
    private static final Clock CLOCK = Clock.fixed(Instant.now().truncatedTo(ChronoUnit.SECONDS), ZoneOffset.UTC);
    private static final Duration EXPIRY = Duration.ofDays(7);
    private static final String ORG = "example.org";
    private static final List<String> KEY_DOMAINS = List.of(TestKeys.DOMAIN, ORG);

    /** The signed-header lists a configuration may give (DkimSettings.signedHeaders): "from" is always added. */
    private static final Map<String, List<String>> HEADER_LISTS = Map.of(
            "default", DkimSigner.DEFAULT_SIGNED_HEADERS,
            "trace", List.of("From", "Received", "SUBJECT", "x-long-header", "X-Mailer", "content-type", "x-empty",
                    "x-8bit", "subject"),
            "minimal", List.of("to", " Subject "));

    /** One signer configuration: keys, header list, expiry. */
    record Config(String name, List<DkimKey> keys, List<String> headerList, Optional<Duration> expiry,
                  DkimSigner signer) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Config> CONFIGS = configs();

    /** One header field as stored: its name as written and its whole text (folding and final CRLF included). */
    record Field(String name, String text) {
    }

    /** One generated message with the envelope and configuration it is signed under. */
    record Case(List<Field> fields, String separator, String body, String envelopeDomain, String authorDomain,
                int fromForm, Config config, long splitSeed) {

        byte[] stored() {
            return storedWith(fields, body);
        }

        byte[] storedWith(List<Field> fs, String b) {
            StringBuilder sb = new StringBuilder();
            fs.forEach(f -> sb.append(f.text()));
            return sb.append(separator).append(b).toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "config=" + config + " envelopeDomain=" + envelopeDomain + " splitSeed=" + splitSeed
                    + "\nstored message: \"" + escape(new String(stored(), StandardCharsets.UTF_8)) + "\"";
        }
    }

    // ---------------------------------------------------------------- properties checked by dkimpy

    @Property(tries = 1, shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void messageAsTheEngineSendsItVerifiesWithDkimpy(@ForAll("batches") List<Case> batch) throws Exception {
        Map<String, byte[]> wire = new LinkedHashMap<>();
        Map<String, Case> byId = new HashMap<>();
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            Case c = batch.get(i);
            Optional<byte[]> prefix = sign(c);
            if (prefix.isEmpty()) {
                continue; // no key for the From or envelope domain (the signingDomain properties check when)
            }
            String id = "ok" + i;
            wire.put(id, onTheWire(prefix.get(), c.stored()));
            byId.put(id, c);
            expected.put(id, signatureFields(prefix.get()).size());
        }
        assertThat(wire).hasSizeGreaterThan(BATCH / 2);

        Map<String, List<String>> results = dkimpy(wire);

        for (String id : wire.keySet()) {
            assertThat(results.get(id))
                    .as("dkimpy results of %s for %s\non the wire: \"%s\"", id, byId.get(id),
                            escape(new String(wire.get(id), StandardCharsets.UTF_8)))
                    .hasSize(expected.get(id))
                    .allMatch("PASS"::equals);
        }
    }

    @Property(tries = 1, shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void changedSignedHeaderOrBodyFailsDkimpy(@ForAll("batches") List<Case> batch, @ForAll long seed)
            throws Exception {
        Random random = new Random(seed);
        Map<String, byte[]> wire = new LinkedHashMap<>();
        Map<String, String> what = new HashMap<>();
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            Case c = batch.get(i);
            Optional<byte[]> prefix = sign(c);
            if (prefix.isEmpty()) {
                continue;
            }
            // A signed header: the bottom-most instance of a name in h= (RFC 6376 5.4.2), its value gets one octet.
            List<String> signedPresent = expectedH(c).stream().filter(n -> lastIndexOf(c.fields(), n) >= 0).toList();
            String name = signedPresent.get(random.nextInt(signedPresent.size()));
            int f = lastIndexOf(c.fields(), name);
            List<Field> changed = new ArrayList<>(c.fields());
            String text = changed.get(f).text();
            int at = text.endsWith("\r\n") ? text.length() - 2 : text.length();
            changed.set(f, new Field(changed.get(f).name(), text.substring(0, at) + "X" + text.substring(at)));
            wire.put("hdr" + i, onTheWire(prefix.get(), c.storedWith(changed, c.body())));
            what.put("hdr" + i, c + "\nchanged field: " + escape(changed.get(f).text()));
            // The body: one visible octet more at its start changes the canonical body whatever it was.
            byte[] body = c.storedWith(c.fields(), "X" + c.body());
            if (c.separator().isEmpty()) { // headers only: end the last field, then an empty line and a body
                String headers = new String(c.stored(), StandardCharsets.UTF_8);
                body = ((headers.endsWith("\r\n") ? headers : headers + "\r\n") + "\r\nX")
                        .getBytes(StandardCharsets.UTF_8);
            }
            wire.put("body" + i, onTheWire(prefix.get(), body));
            what.put("body" + i, c + "\nchanged: body");
            expected.put("hdr" + i, signatureFields(prefix.get()).size());
            expected.put("body" + i, signatureFields(prefix.get()).size());
        }

        Map<String, List<String>> results = dkimpy(wire);

        for (String id : wire.keySet()) {
            assertThat(results.get(id))
                    .as("dkimpy results of %s for %s", id, what.get(id))
                    .hasSize(expected.get(id))
                    .noneMatch("PASS"::equals);
        }
    }

    // ---------------------------------------------------------------- properties checked in Java

    @Property(tries = 250)
    void bodyHashIsTheHashOfTheIndependentlyCanonicalizedBody(@ForAll("cases") Case c) throws Exception {
        Optional<byte[]> prefix = sign(c);
        if (prefix.isEmpty()) {
            return;
        }
        byte[] wire = onTheWire(new byte[0], c.stored());
        byte[] canonical = relaxedBody(bodyOf(wire));
        String want = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(canonical));

        for (String field : signatureFields(prefix.get())) {
            assertThat(tags(field).get("bh").replaceAll("[ \t]", "")).as("bh= of %s for %s", field, c)
                    .isEqualTo(want);
        }
    }

    @Property(tries = 250)
    void signatureFieldIsWellFormed(@ForAll("cases") Case c) {
        Optional<byte[]> prefix = sign(c);
        if (prefix.isEmpty()) {
            return;
        }
        List<String> fields = signatureFields(prefix.get());
        // Which domain signs is the d= property's concern; here: every key of the domain that signed, in order.
        String d = tags(fields.getFirst()).get("d");
        List<DkimKey> keys = c.config().keys().stream().filter(k -> k.domain().equals(d)).toList();
        assertThat(fields).as("one DKIM-Signature per key of the domain, %s", c).hasSize(keys.size());
        long t = CLOCK.instant().getEpochSecond();
        for (int k = 0; k < fields.size(); k++) {
            String field = fields.get(k);
            DkimKey key = keys.get(k);
            String why = "signature field \"" + escape(field) + "\" of " + c;
            assertThat(field).as(why).startsWith("DKIM-Signature:").endsWith("\r\n")
                    .matches("[\\x20-\\x7e\\t\\r\\n]*");
            for (String line : field.substring(0, field.length() - 2).split("\r\n", -1)) {
                // RFC 5322 2.1.1: at most 998 octets (MUST), 78 (SHOULD; SignatureHeaderFolder promises 76).
                assertThat(line.length()).as(why).isLessThanOrEqualTo(78);
                assertThat(line).as("a fold is CRLF then WSP, never a line of only WSP (RFC 5322 3.2.2): " + why)
                        .matches("(DKIM-Signature:|[ \\t]+[^ \\t]).*");
            }
            Map<String, String> tags = tags(field);
            assertThat(tags.keySet()).as(why).containsAll(List.of("v", "a", "b", "bh", "c", "d", "h", "s", "t"))
                    .isSubsetOf(List.of("v", "a", "b", "bh", "c", "d", "h", "s", "t", "x"));
            assertThat(tags.get("v")).as(why).isEqualTo("1");
            assertThat(tags.get("a")).as(why).isEqualTo(key.algorithm().tagValue());
            assertThat(tags.get("c")).as(why).isEqualTo("relaxed/relaxed");
            assertThat(tags.get("d")).as(why).isEqualTo(key.domain());
            assertThat(tags.get("s")).as(why).isEqualTo(key.selector());
            assertThat(tags.get("t")).as(why).isEqualTo(Long.toString(t));
            if (c.config().expiry().isPresent()) {
                assertThat(tags.get("x")).as(why).isEqualTo(Long.toString(t + EXPIRY.toSeconds()));
            } else {
                assertThat(tags).as(why).doesNotContainKey("x");
            }
            assertThat(List.of(tags.get("h").replaceAll("[ \t]", "").split(":", -1))).as(why)
                    .isEqualTo(expectedH(c));
            assertThat(base64(tags.get("bh"), why)).as(why).hasSize(32);
            int signatureLength = key.privateKey() instanceof RSAPrivateKey rsa
                    ? (rsa.getModulus().bitLength() + 7) / 8 : 64; // RFC 8017 8.2.1; RFC 8032 5.1.6
            assertThat(base64(tags.get("b"), why)).as(why).hasSize(signatureLength);
        }
    }

    /**
     * d= is the domain of the From: author (its last mailbox, as FromDomain documents) or its closest parent with a
     * key, else the envelope sender's; no signature when neither has a key.
     */
    @Property(tries = 250)
    void signingDomainIsTheAuthorsElseTheEnvelopeSenders(@ForAll("singleAuthorCases") Case c) {
        assertSigningDomain(c);
    }

    /**
     * As above for a From: whose last mailbox is a bare addr-spec after one in angle brackets
     * ({@code Other <other@decoy.test>, author@example.com}): FromDomain documents that the last mailbox is used.
     */
    @Property(tries = 100)
    void signingDomainOfSeveralMailboxesIsTheLastOnes(@ForAll("mixedMailboxCases") Case c) {
        assertSigningDomain(c);
    }

    private static void assertSigningDomain(Case c) {
        Optional<byte[]> prefix = sign(c);
        String want = keyDomain(c.authorDomain()) != null ? keyDomain(c.authorDomain())
                : keyDomain(c.envelopeDomain());
        if (want == null) {
            assertThat(prefix).as("%s", c).isEmpty();
            return;
        }
        assertThat(prefix).as("%s", c).isPresent();
        for (String field : signatureFields(prefix.get())) {
            assertThat(tags(field).get("d")).as("d= for author domain %s in %s", c.authorDomain(), c)
                    .isEqualTo(want);
        }
    }

    // ---------------------------------------------------------------- generators

    @Provide
    Arbitrary<Case> cases() {
        return Arbitraries.randomValue(DkimSignatureProperties::generate);
    }

    @Provide
    Arbitrary<Case> singleAuthorCases() {
        return cases().filter(c -> c.fromForm() != MIXED_MAILBOXES);
    }

    @Provide
    Arbitrary<Case> mixedMailboxCases() {
        return Arbitraries.randomValue(r -> generate(r, MIXED_MAILBOXES));
    }

    @Provide
    Arbitrary<List<Case>> batches() {
        return cases().list().ofSize(BATCH);
    }

    private static Case generate(Random r) {
        return generate(r, r.nextInt(FROM_FORMS));
    }

    private static Case generate(Random r, int fromForm) {
        List<Field> trace = new ArrayList<>();
        trace.add(field("Received", String.format(" from app.example.com (app [127.0.0.1])\r\n\tby tern.example.net"
                + " with ESMTP id %016X; Wed, 25 Nov 2026 16:00:00 +0000", r.nextLong())));
        for (int i = r.nextInt(3); i > 0; i--) {
            trace.add(field(oddCase("Received", r), " from hop" + i + ".example.net by hop" + (i + 1)
                    + ".example.net;\r\n  Wed, 25 Nov 2026 15:5" + i + ":00 +0000"));
        }
        List<Field> fields = new ArrayList<>();
        String[] domains = {"example.com", "Example.COM", "news.example.com", ORG, "mail.example.org",
            "unkeyed.test", "example.com.evil.test"};
        String author = domains[r.nextInt(domains.length)];
        fields.add(field(oddCase("From", r), ws(r) + fromValue("author", author, fromForm) + trailingWs(r)));
        if (r.nextInt(5) > 0) {
            fields.add(field(oddCase("To", r), pick(r, " bob@example.net", "bob@example.net",
                    " Bob <bob@example.net>,\r\n\tCarol <carol@example.net>", " ", "")));
        }
        int subjects = pickWeighted(r, 15, 60, 25);
        for (int i = 0; i < subjects; i++) {
            fields.add(field(oddCase("Subject", r), ws(r) + pick(r, "", "Hello", "Hello #" + i,
                    "a   long\r\n   folded\t\r\n\tsubject   ", "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u2615",
                    "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "  spaced  out  ", "tab\tseparated\t\twords",
                    "\u5c71\u7530\r\n \u592a\u90ce", "obsolete\r\n \r\n fold of only WSP") + trailingWs(r)));
        }
        optional(r, 70, fields, "Date", " Wed, 25 Nov 2026 16:00:00 +0000");
        optional(r, 70, fields, "Message-ID", " <" + Long.toHexString(r.nextLong()) + "@example.com>");
        optional(r, 50, fields, "MIME-Version", pick(r, " 1.0", "1.0", " 1.0 (generated)"));
        optional(r, 50, fields, "Content-Type", pick(r, " text/plain; charset=utf-8",
                " multipart/alternative;\r\n\tboundary=\"=_b1\"",
                " text/plain;\r\n charset=\"utf-8\";\r\n format=flowed"));
        optional(r, 30, fields, "Cc", pick(r, "", " ", "   \t", " c@example.net"));
        optional(r, 20, fields, "Reply-To", " r@example.net");
        optional(r, 40, fields, "X-Mailer", pick(r, " Tern-Props 1.0", "\tTern-Props\t\t1.0\t"));
        optional(r, 20, fields, "List-Unsubscribe", " <mailto:u@example.com>,\r\n <https://example.com/u>");
        optional(r, 30, fields, "X-Empty", pick(r, "", " ", "\t \t"));
        optional(r, 30, fields, "X-8bit", " \u00dcn\u00efc\u00f6d\u00e9 \u2615 \u5c71\u7530 caf\u00e9");
        if (r.nextInt(100) < 30) {
            // RFC 5322 2.1.1: at most 998 octets before the CRLF; lengths from 960 to exactly 998.
            String name = r.nextBoolean() ? "X-Long-Header" : "Subject";
            fields.add(longField(oddCase(name, r), 960 + r.nextInt(39), r));
        }
        Collections.shuffle(fields, r);
        trace.addAll(fields);
        fields = trace;

        String separator = "\r\n";
        String body = generateBody(r);
        if (r.nextInt(100) < 8) {
            separator = "";
            body = ""; // headers only
            if (r.nextBoolean()) {
                Field last = fields.getLast(); // and the last field without its CRLF
                fields.set(fields.size() - 1, new Field(last.name(),
                        last.text().substring(0, last.text().length() - 2)));
            }
        }
        String envelope = pick(r, "example.com", "bounces.example.org", "Mail.Example.Com", "unkeyed.test", null);
        return new Case(List.copyOf(fields), separator, body, envelope, author.toLowerCase(Locale.ROOT), fromForm,
                CONFIGS.get(r.nextInt(CONFIGS.size())), r.nextLong());
    }

    private static String generateBody(Random r) {
        switch (r.nextInt(100)) {
            case 0, 1, 2, 3, 4, 5, 6:
                return "";
            case 7, 8, 9, 10, 11, 12, 13:
                return pick(r, "\r\n", "\r\n\r\n\r\n", " \r\n\t\r\n", "  \t ", "\r\n \r\n", "\n\n", "\r");
            default:
                break;
        }
        StringBuilder sb = new StringBuilder();
        int lines = 1 + r.nextInt(12);
        for (int i = 0; i < lines; i++) {
            sb.append(switch (pickWeighted(r, 4, 3, 2, 3, 2, 1)) {
                case 0 -> pick(r, "Hello Bob.", "text", "From me", "mid  \t  space", "  indented", "\tx\t y ");
                case 1 -> pick(r, "", " ", "\t", " \t ");
                case 2 -> pick(r, ".", "..", "...", ". ", ".\t", ".x");
                case 3 -> pick(r, "trailing   ", "trailing\t", "t \t \t", "Gr\u00fc\u00dfe \u2615 \u5c71\u7530 ",
                        "\u00e9t\u00e9\u00a0\u00ff");
                case 4 -> longLine(900 + r.nextInt(1200), r);
                default -> "\u0001\u007f binary-ish";
            });
            boolean last = i == lines - 1;
            sb.append(last ? pick(r, "\r\n", "\r\n", "\r\n", "", "", "\r\n\r\n \r\n\t\r\n", "\n")
                    : pick(r, "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r"));
        }
        return sb.toString();
    }

    private static final int FROM_FORMS = 12;
    /** The From: form "Name <a@decoy>, author@domain" (see signingDomainOfSeveralMailboxesIsTheLastOnes). */
    private static final int MIXED_MAILBOXES = 7;

    /** A From: value whose author (the last mailbox, RFC 5322 3.6.2 as FromDomain reads it) is local@domain. */
    private static String fromValue(String local, String domain, int form) {
        String addr = local + "@" + domain;
        return switch (form) {
            case 0 -> addr;
            case 1 -> "Alice <" + addr + ">";
            case 2 -> "\"Doe, John <j@decoy.test>\" <" + addr + ">";
            case 3 -> "J\u00f6rg \u00dcnal <" + addr + ">";
            case 4 -> "(sent via x@decoy.test) " + addr + " (trailing (nested) comment)";
            case 5 -> "Other <other@decoy.test>, Last <" + addr + ">";
            case 6 -> "a@decoy.test, " + addr;
            case 7 -> "Other <other@decoy.test>, " + addr;
            case 8 -> "=?utf-8?q?Gr=C3=BC=C3=9Fe?= <" + addr + ">";
            case 9 -> "Display\r\n Name\r\n\t<" + addr + ">";
            case 10 -> "Team: a@decoy.test, " + addr + ";";
            default -> "<" + addr + ">";
        };
    }

    private static Field longField(String name, int lineLength, Random r) {
        StringBuilder sb = new StringBuilder(name).append(':');
        while (sb.length() < lineLength) {
            sb.append(r.nextInt(8) == 0 ? "  " : " ").append("word");
        }
        sb.setLength(lineLength);
        if (sb.charAt(lineLength - 1) == ' ') {
            sb.setCharAt(lineLength - 1, 'z');
        }
        return new Field(name, sb.append("\r\n").toString());
    }

    private static String longLine(int length, Random r) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            sb.append(r.nextInt(6) == 0 ? " \t " : " ").append("lorem");
        }
        return sb.toString();
    }

    private static void optional(Random r, int percent, List<Field> fields, String name, String value) {
        if (r.nextInt(100) < percent) {
            fields.add(field(oddCase(name, r), value + trailingWs(r)));
        }
    }

    private static Field field(String name, String value) {
        return new Field(name, name + ":" + value + "\r\n");
    }

    private static String oddCase(String name, Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> name.toLowerCase(Locale.ROOT);
            case 1 -> name.toUpperCase(Locale.ROOT);
            case 2 -> {
                StringBuilder sb = new StringBuilder(name);
                for (int i = 0; i < sb.length(); i++) {
                    sb.setCharAt(i, r.nextBoolean() ? Character.toUpperCase(sb.charAt(i))
                            : Character.toLowerCase(sb.charAt(i)));
                }
                yield sb.toString();
            }
            default -> name;
        };
    }

    private static String ws(Random r) {
        return pick(r, " ", " ", "", "  ", "\t", " \r\n ");
    }

    private static String trailingWs(Random r) {
        return pick(r, "", "", "", " ", "\t ", "  ");
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... choices) {
        return choices[r.nextInt(choices.length)];
    }

    private static int pickWeighted(Random r, int... weights) {
        int n = r.nextInt(Arrays.stream(weights).sum());
        for (int i = 0; i < weights.length; i++) {
            n -= weights[i];
            if (n < 0) {
                return i;
            }
        }
        throw new AssertionError();
    }

    // ---------------------------------------------------------------- signing as the engine does

    /** As DeliveryEngine.signature(...): stream(envelope sender domain), the stored message in pieces, finish(). */
    private static Optional<byte[]> sign(Case c) {
        byte[] stored = c.stored();
        Random r = new Random(c.splitSeed());
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int i = r.nextInt(6); i > 0; i--) {
            cuts.add(r.nextInt(stored.length + 1));
        }
        cuts.add(stored.length);
        DkimSigningStream stream = c.config().signer().stream(c.envelopeDomain());
        int from = 0;
        for (int to : cuts) {
            int n = to - from;
            ByteBuffer piece = r.nextBoolean() ? ByteBuffer.allocateDirect(n + 2) : ByteBuffer.allocate(n + 2);
            piece.put(1, stored, from, n).position(1).limit(1 + n);
            stream.update(piece);
            from = to;
        }
        return stream.finish();
    }

    /**
     * What the receiver gets from the engine once it removes the transparency dots: the prefix, then the stored
     * message, every CRLF, bare CR and bare LF sent as CRLF, and a CRLF added when the content does not end in one.
     */
    static byte[] onTheWire(byte[] prefix, byte[] stored) {
        byte[] all = concat(prefix, stored);
        ByteArrayOutputStream out = new ByteArrayOutputStream(all.length + 64);
        for (int i = 0; i < all.length; i++) {
            byte b = all[i];
            if (b == '\r' || b == '\n') {
                out.write('\r');
                out.write('\n');
                if (b == '\r' && i + 1 < all.length && all[i + 1] == '\n') {
                    i++;
                }
            } else {
                out.write(b);
            }
        }
        byte[] wire = out.toByteArray();
        if (wire.length > 0 && wire[wire.length - 1] != '\n') {
            return concat(wire, new byte[] {'\r', '\n'});
        }
        return wire;
    }

    /** The body of a CRLF message: after the first empty line, or empty when there is none. */
    static byte[] bodyOf(byte[] wire) {
        String s = new String(wire, StandardCharsets.ISO_8859_1);
        int sep = s.indexOf("\r\n\r\n");
        return sep < 0 ? new byte[0] : s.substring(sep + 4).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * RFC 6376 3.4.4, step by step, on a body whose line ends are all CRLF: reduce each WSP run to one SP, remove WSP
     * at the end of each line, remove empty lines at the end, end a non-empty body with CRLF; an empty body stays
     * empty (relaxed, unlike simple, does not turn it into CRLF).
     */
    static byte[] relaxedBody(byte[] body) {
        List<String> lines = new ArrayList<>(List.of(new String(body, StandardCharsets.ISO_8859_1)
                .split("\r\n", -1)));
        String last = lines.removeLast(); // after the last CRLF: empty, or a last line without CRLF
        if (!last.isEmpty()) {
            lines.add(last); // RFC 6376 3.4.4 / errata 1384: it gets its CRLF below
        }
        List<String> canonical = new ArrayList<>();
        for (String line : lines) {
            canonical.add(line.replaceAll("[ \t]+", " ").replaceAll(" $", ""));
        }
        while (!canonical.isEmpty() && canonical.getLast().isEmpty()) {
            canonical.removeLast();
        }
        StringBuilder sb = new StringBuilder();
        canonical.forEach(l -> sb.append(l).append("\r\n"));
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    // ---------------------------------------------------------------- models of the expected signature

    /** The domain itself or its closest parent that has keys, or null. */
    private static String keyDomain(String domain) {
        if (domain == null) {
            return null;
        }
        String d = domain.toLowerCase(Locale.ROOT);
        while (!d.isEmpty()) {
            if (KEY_DOMAINS.contains(d)) {
                return d;
            }
            int dot = d.indexOf('.');
            d = dot < 0 ? "" : d.substring(dot + 1);
        }
        return null;
    }

    /** h=: the configured names (trimmed, lower case, each once, "from" first when missing) present, plus "from". */
    private static List<String> expectedH(Case c) {
        Set<String> names = new LinkedHashSet<>();
        c.config().headerList().forEach(n -> names.add(n.trim().toLowerCase(Locale.ROOT)));
        List<String> list = new ArrayList<>(names);
        if (!names.contains("from")) {
            list.addFirst("from");
        }
        return list.stream().filter(n -> n.equals("from") || lastIndexOf(c.fields(), n) >= 0).toList();
    }

    private static int lastIndexOf(List<Field> fields, String lowerName) {
        for (int i = fields.size() - 1; i >= 0; i--) {
            if (fields.get(i).name().toLowerCase(Locale.ROOT).equals(lowerName)) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- reading the signature fields

    /** The prefix split into header fields: a CRLF not followed by WSP ends one (RFC 5322 2.2.3). */
    private static List<String> signatureFields(byte[] prefix) {
        String s = new String(prefix, StandardCharsets.ISO_8859_1);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i + 1 < s.length(); i++) {
            if (s.charAt(i) == '\r' && s.charAt(i + 1) == '\n'
                    && (i + 2 == s.length() || s.charAt(i + 2) != ' ' && s.charAt(i + 2) != '\t')) {
                out.add(s.substring(start, i + 2));
                start = i + 2;
            }
        }
        assertThat(start).as("the prefix ends with a complete field: \"%s\"", escape(s)).isEqualTo(s.length());
        return out;
    }

    /** RFC 6376 3.2: tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]; tval = 1*VALCHAR, WSP between. */
    private static final String TVAL = "[\\x21-\\x3a\\x3c-\\x7e]+";
    private static final Pattern TAG_SPEC = Pattern.compile(
            "[ \t]*([A-Za-z][A-Za-z0-9_]*)[ \t]*=[ \t]*((?:" + TVAL + "(?:[ \t]+" + TVAL + ")*)?)[ \t]*");

    /** The tags of one DKIM-Signature field, checked against the tag-list grammar; names must be unique. */
    private static Map<String, String> tags(String field) {
        String value = field.substring(field.indexOf(':') + 1, field.length() - 2).replace("\r\n", "");
        String[] specs = value.split(";", -1);
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 0; i < specs.length; i++) {
            if (i == specs.length - 1 && specs[i].isBlank()) {
                break; // tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
            }
            Matcher m = TAG_SPEC.matcher(specs[i]);
            assertThat(m.matches()).as("tag-spec \"%s\" in \"%s\"", specs[i], escape(field)).isTrue();
            assertThat(tags.put(m.group(1), m.group(2))).as("tag %s twice in \"%s\"", m.group(1), escape(field))
                    .isNull();
        }
        return tags;
    }

    private static byte[] base64(String value, String why) {
        String b = value.replaceAll("[ \t]", "");
        assertThat(b).as("base64 (RFC 6376 2.11) in " + why).matches("[A-Za-z0-9+/]*={0,2}");
        assertThat(b.length() % 4).as(why).isZero();
        return Base64.getDecoder().decode(b);
    }

    // ---------------------------------------------------------------- dkimpy, many messages per run

    /** Verifies every message with dkimpy in one python run: id to the result of each DKIM-Signature, in order. */
    private static Map<String, List<String>> dkimpy(Map<String, byte[]> messages) throws Exception {
        Path dir = Files.createTempDirectory("dkim-props");
        try {
            Map<String, List<String>> results = DkimpyVerifier.verifyAll(messages, records(), dir);
            assertThat(results.keySet()).containsExactlyInAnyOrderElementsOf(messages.keySet());
            return results;
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** The TXT records of both selectors, published for both signing domains (the same keys sign for each). */
    private static Map<String, Path> records() {
        Map<String, Path> records = new HashMap<>();
        for (String domain : KEY_DOMAINS) {
            records.put(TestKeys.RSA_SELECTOR + "._domainkey." + domain, DkimpyVerifier.resource("rsa2048.dns.txt"));
            records.put(TestKeys.ED_SELECTOR + "._domainkey." + domain, DkimpyVerifier.resource("ed25519.dns.txt"));
        }
        return records;
    }

    // ---------------------------------------------------------------- configurations and helpers

    private static List<Config> configs() {
        try {
            Map<String, List<DkimKey>> keySets = new LinkedHashMap<>();
            List<DkimKey> rsa = new ArrayList<>();
            List<DkimKey> ed = new ArrayList<>();
            List<DkimKey> both = new ArrayList<>();
            for (String domain : KEY_DOMAINS) {
                DkimKey r = DkimKey.load(domain, TestKeys.RSA_SELECTOR, DkimAlgorithm.RSA_SHA256,
                        DkimpyVerifier.resource("rsa2048-pkcs8.pem"));
                DkimKey e = DkimKey.load(domain, TestKeys.ED_SELECTOR, DkimAlgorithm.ED25519_SHA256,
                        DkimpyVerifier.resource("ed25519-pkcs8.pem"));
                rsa.add(r);
                ed.add(e);
                both.add(r);
                both.add(e);
            }
            keySets.put("rsa", rsa);
            keySets.put("ed25519", ed);
            keySets.put("rsa+ed25519", both);
            List<Config> configs = new ArrayList<>();
            for (Map.Entry<String, List<DkimKey>> keys : keySets.entrySet()) {
                for (Map.Entry<String, List<String>> list : new TreeMap<>(HEADER_LISTS).entrySet()) {
                    for (Optional<Duration> expiry : List.of(Optional.<Duration>empty(), Optional.of(EXPIRY))) {
                        configs.add(new Config(keys.getKey() + "/" + list.getKey() + (expiry.isPresent() ? "/x=" : ""),
                                List.copyOf(keys.getValue()), list.getValue(), expiry,
                                new DkimSigner(keys.getValue(), list.getValue(), expiry, CLOCK)));
                    }
                }
            }
            return List.copyOf(configs);
        } catch (DkimKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
    }
}

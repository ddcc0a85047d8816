package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of the relaxed canonicalizations (RFC 6376 3.4.2, 3.4.4). jqwik prints the seed of a failure. */
class RelaxedCanonicalizationProperties {

    @Property
    void bodyCanonicalizationIsIdempotent(@ForAll("bodies") String body) {
        String once = Canon.body(body);
        assertThat(Canon.body(once)).isEqualTo(once);
    }

    @Property
    void bodyCanonicalizationMatchesTheRfcRulesAppliedOneByOne(@ForAll("bodies") String body) {
        assertThat(Canon.body(body)).isEqualTo(specModel(body));
    }

    @Property
    void bodyCanonicalizationDoesNotDependOnHowTheBodyIsSplit(@ForAll("bodies") String body, @ForAll long seed) {
        Random random = new Random(seed);
        Set<Integer> cuts = new TreeSet<>();
        int count = body.isEmpty() ? 0 : random.nextInt(Math.min(body.length(), 8) + 1);
        for (int i = 0; i < count; i++) {
            cuts.add(random.nextInt(body.length() + 1));
        }
        int[] splits = cuts.stream().mapToInt(Integer::intValue).toArray();

        assertThat(Canon.bodyInPieces(body, splits)).isEqualTo(Canon.body(body));
    }

    @Property
    void whitespaceVariantsOfABodyCanonicalizeEqual(@ForAll("lines") List<List<String>> lines, @ForAll long seedA,
                                                     @ForAll long seedB) {
        String a = renderBody(lines, new Random(seedA));
        String b = renderBody(lines, new Random(seedB));

        assertThat(Canon.body(a)).isEqualTo(Canon.body(b));
    }

    @Property
    void headerCanonicalizationIsIdempotent(@ForAll("headerValues") String value) {
        String once = Canon.header("Subject:" + value + "\r\n");
        assertThat(Canon.header(once)).isEqualTo(once);
    }

    @Property
    void foldingAndWhitespaceVariantsOfAHeaderCanonicalizeEqual(@ForAll("words") List<String> words,
                                                                @ForAll long seedA, @ForAll long seedB) {
        String a = renderHeader(words, new Random(seedA));
        String b = renderHeader(words, new Random(seedB));

        assertThat(Canon.header(a)).isEqualTo(Canon.header(b));
    }

    @Provide
    Arbitrary<String> bodies() {
        return Arbitraries.of("a", "b", "\u00e9", " ", "\t", "  ", "\r\n", "\r\n", "\r", "\n", ".")
                .list().ofMaxSize(40).map(parts -> String.join("", parts));
    }

    @Provide
    Arbitrary<List<List<String>>> lines() {
        return words().list().ofMaxSize(8);
    }

    @Provide
    Arbitrary<List<String>> words() {
        return Arbitraries.strings().withChars("abcXYZ09.,;<>@\u00e9\u00ff").ofMinLength(1).ofMaxLength(6)
                .list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<String> headerValues() {
        return Arbitraries.of("a", "B", "\u00e9", " ", "\t", "\r\n ", "\r\n\t", ":", ";")
                .list().ofMaxSize(30).map(parts -> String.join("", parts));
    }

    /**
     * RFC 6376 3.4.4 step by step on a whole string, on the body as Tern's SMTP client sends it: every line ending
     * (CRLF, bare CR, bare LF) as CRLF, and a CRLF after a last partial line.
     */
    private static String specModel(String body) {
        String s = body.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");
        if (!s.isEmpty() && !s.endsWith("\r\n")) {
            s += "\r\n";
        }
        s = s.replaceAll("[ \t]+\r\n", "\r\n");
        s = s.replaceAll("[ \t]+", " ");
        while (s.endsWith("\r\n")) {
            s = s.substring(0, s.length() - 2);
        }
        return s.isEmpty() ? s : s + "\r\n";
    }

    private static String whitespace(Random random) {
        return List.of(" ", "\t", "  ", " \t ", "\t\t").get(random.nextInt(5));
    }

    private static String renderBody(List<List<String>> lines, Random random) {
        StringBuilder sb = new StringBuilder();
        for (List<String> words : lines) {
            // Leading whitespace is reduced to one SP, not removed: whether a line has some is part of the content,
            // so it is fixed by the line (its word count) rather than by the random variant.
            if (words.size() % 2 == 1) {
                sb.append(whitespace(random));
            }
            for (int i = 0; i < words.size(); i++) {
                sb.append(i == 0 ? "" : whitespace(random)).append(words.get(i));
            }
            if (random.nextBoolean()) {
                sb.append(whitespace(random));
            }
            sb.append("\r\n");
        }
        int emptyLines = random.nextInt(4);
        for (int i = 0; i < emptyLines; i++) {
            sb.append(random.nextBoolean() ? "\r\n" : whitespace(random) + "\r\n");
        }
        return sb.toString();
    }

    private static String renderHeader(List<String> words, Random random) {
        StringBuilder sb = new StringBuilder();
        String name = "Subject";
        for (char c : name.toCharArray()) {
            sb.append(random.nextBoolean() ? Character.toUpperCase(c) : Character.toLowerCase(c));
        }
        sb.append(random.nextBoolean() ? "" : whitespace(random)).append(':');
        for (String word : words) {
            if (random.nextInt(3) == 0) {
                sb.append("\r\n"); // a fold: CRLF followed by whitespace
            }
            sb.append(whitespace(random)).append(word);
        }
        if (random.nextBoolean()) {
            sb.append(whitespace(random));
        }
        return sb.append("\r\n").toString();
    }
}

package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link FromDomain#extract}, which reads the From: value of a message (content from the client, so untrusted) to
 * choose the DKIM signing key. Built From: values (RFC 5322 3.4 mailbox: display name, comments and quoted strings
 * holding decoy '@', '<' and '>', folding) give the author's domain; arbitrary octets never throw and never read
 * outside the range. jqwik prints the seed of a failure.
 */
class FromDomainProperties {

    @Provide
    Arbitrary<String> domains() {
        Arbitrary<String> label = Arbitraries.strings().withChars("abcXYZ019-_").ofMinLength(1).ofMaxLength(8);
        return label.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(".", l));
    }

    /** Text that hides decoys from the parser the way RFC 5322 does: in comments, quoted strings, with escapes. */
    @Provide
    Arbitrary<String> decoys() {
        return Arbitraries.of("", "(evil@attacker.example)", "(a (nested <x@y.example>) comment)",
                "\"Mallory <m@attacker.example>\" ", "\"quoted \\\" @ <a@b.example>\"", "(\\) x@y.example)",
                " ", "\r\n ", "\t");
    }

    @Property(tries = 3000)
    void angleAddrGivesTheAuthorDomain(@ForAll("domains") String domain, @ForAll("decoys") String before,
                                       @ForAll("decoys") String inside, @ForAll("decoys") String after,
                                       @ForAll boolean quotedLocal, @ForAll boolean trailingDot) {
        String local = quotedLocal ? "\"a@b <c>\"" : "first.last";
        String value = " " + before + "Display Name " + inside + "<" + local + "@" + domain + (trailingDot ? "." : "")
                + ">" + after + "\r\n";
        assertThat(extract(value)).as(value).isEqualTo(domain.toLowerCase(Locale.ROOT));
    }

    @Property(tries = 2000)
    void bareAddrSpecGivesItsDomain(@ForAll("domains") String domain, @ForAll("decoys") String before,
                                    @ForAll("decoys") String after) {
        String value = before + "user@" + domain + after;
        assertThat(extract(value)).as(value).isEqualTo(domain.toLowerCase(Locale.ROOT));
    }

    /** RFC 5322 3.6.2: a From: listing several mailboxes; the last one's domain is used (documented choice). */
    @Property(tries = 1000)
    void ofSeveralMailboxesTheLastIsUsed(@ForAll("domainLists") List<String> domains) {
        if (domains.isEmpty()) {
            assertThat(extract("undisclosed-recipients:;")).isNull();
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (String d : domains) {
            sb.append(sb.isEmpty() ? "" : ", ").append("Name <u@").append(d).append('>');
        }
        assertThat(extract(sb.toString())).isEqualTo(domains.getLast().toLowerCase(Locale.ROOT));
    }

    @Provide
    Arbitrary<byte[]> hostile() {
        Arbitrary<Byte> octet = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.of((byte) '@', (byte) '<', (byte) '>', (byte) '(', (byte) ')', (byte) '"',
                        (byte) '\\', (byte) '.', (byte) 'a')),
                Tuple.of(2, Arbitraries.of((byte) ' ', (byte) '\r', (byte) '\n', (byte) '\t')),
                Tuple.of(1, Arbitraries.bytes()));
        return octet.list().ofMaxSize(80).map(l -> {
            byte[] b = new byte[l.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = l.get(i);
            }
            return b;
        });
    }

    /**
     * Any octets: no exception, the same answer whatever surrounds the range (so nothing outside it is read), and
     * the answer is null or a lower-case run of domain characters that does not end with a dot.
     */
    @Property(tries = 3000)
    void anyOctetsGiveNullOrADomainAndStayInTheirRange(@ForAll("hostile") byte[] value,
                                                       @ForAll("hostile") byte[] around) {
        byte[] padded = new byte[value.length + 2 * around.length];
        System.arraycopy(around, 0, padded, 0, around.length);
        System.arraycopy(value, 0, padded, around.length, value.length);
        System.arraycopy(around, 0, padded, around.length + value.length, around.length);
        String alone = FromDomain.extract(value, 0, value.length);
        byte[] backslashes = new byte[value.length + 2];
        Arrays.fill(backslashes, (byte) '\\');
        System.arraycopy(value, 0, backslashes, 1, value.length);
        assertThat(FromDomain.extract(padded, around.length, around.length + value.length)).isEqualTo(alone);
        assertThat(FromDomain.extract(backslashes, 1, 1 + value.length)).isEqualTo(alone);
        if (alone != null) {
            assertThat(alone).matches("[a-z0-9._-]+").doesNotEndWith(".");
        }
    }

    private static String extract(String value) {
        byte[] b = value.getBytes(StandardCharsets.ISO_8859_1);
        return FromDomain.extract(b, 0, b.length);
    }

    @Provide
    Arbitrary<List<String>> domainLists() {
        return domains().list().ofMaxSize(4);
    }
}

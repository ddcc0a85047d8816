package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import dev.tern.config.Setting;
import dev.tern.config.Settings;
import dev.tern.pem.PemPrivateKeys;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
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

/**
 * DKIM private key files ({@link DkimKey#readPrivateKey}, through {@link PemPrivateKeys}) and the {@code --dkim-keys} setting ({@link DkimKeySettings}),
 * both written by the operator. Keys the JDK writes, PKCS#8 (RSA, Ed25519) and PKCS#1 (RSA, re-wrapped by the
 * reader), in any PEM layout (line width, CRLF, text around the block) read back to the same key; damaged PEM ends
 * only in {@link DkimKeyException} with one of the documented messages, none quoting the key; settings written as
 * {@code DOMAIN:SELECTOR:ALGORITHM:PEM-FILE} read back, and anything else is refused with
 * {@link IllegalArgumentException}. jqwik prints the seed of a failure.
 */
class DkimKeyFilesProperties {

    private static final List<PrivateKey> RSA_KEYS = new ArrayList<>();
    private static final List<PrivateKey> ED_KEYS = new ArrayList<>();

    static {
        try {
            KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
            for (int bits : new int[] {512, 768, 1024}) {
                rsa.initialize(bits);
                RSA_KEYS.add(rsa.generateKeyPair().getPrivate());
            }
            RSA_KEYS.add(DkimKey.readPrivateKey(DkimpyVerifier.resource("rsa2048-pkcs8.pem"), DkimAlgorithm.RSA_SHA256));
            KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
            for (int i = 0; i < 8; i++) {
                ED_KEYS.add(ed.generateKeyPair().getPrivate());
            }
        } catch (GeneralSecurityException | DkimKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How a PEM file may be laid out: base64 line width (0: one line), line ending, text before and after. */
    record Layout(int width, String eol, String before, String after) {
    }

    @Provide
    Arbitrary<Layout> layouts() {
        Arbitrary<Integer> width = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(64)), Tuple.of(1, Arbitraries.just(76)), Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(2, Arbitraries.integers().between(1, 40).map(n -> n * 4)));
        Arbitrary<String> eol = Arbitraries.of("\n", "\r\n");
        // openssl pkcs12 -nodes writes "Bag Attributes" lines before the block; editors add a final newline or not
        Arbitrary<String> before = Arbitraries.of("", "", "Bag Attributes\n    localKeyID: 01 02 03\n", "\n\n",
                "# dkim key for example.com\n", "   ");
        Arbitrary<String> after = Arbitraries.of("", "", "\n", "\n\n", "   \n", "trailing note\n");
        return Combinators.combine(width, eol, before, after).as(Layout::new);
    }

    private static String pem(String type, byte[] der, Layout l) {
        String b64 = Base64.getEncoder().encodeToString(der);
        StringBuilder sb = new StringBuilder(l.before())
                .append("-----BEGIN ").append(type).append("-----").append(l.eol());
        int w = l.width() == 0 ? b64.length() : l.width();
        for (int i = 0; i < b64.length(); i += w) {
            sb.append(b64, i, Math.min(b64.length(), i + w)).append(l.eol());
        }
        return sb.append("-----END ").append(type).append("-----").append(l.eol()).append(l.after()).toString();
    }

    // ---------------------------------------------------------------- keys read back

    @Property(tries = 300)
    void pkcs8RsaKeysReadBack(@ForAll @IntRange(min = 0, max = 3) int which, @ForAll("layouts") Layout layout)
            throws DkimKeyException {
        PrivateKey key = RSA_KEYS.get(which);
        PrivateKey read = DkimKey.parsePrivateKey(pem("PRIVATE KEY", key.getEncoded(), layout), DkimAlgorithm.RSA_SHA256);
        assertThat(read.getAlgorithm()).isEqualTo("RSA");
        assertThat(read.getEncoded()).isEqualTo(key.getEncoded());
    }

    @Property(tries = 300)
    void pkcs8Ed25519KeysReadBack(@ForAll @IntRange(min = 0, max = 7) int which, @ForAll("layouts") Layout layout)
            throws DkimKeyException {
        PrivateKey key = ED_KEYS.get(which);
        PrivateKey read = DkimKey.parsePrivateKey(pem("PRIVATE KEY", key.getEncoded(), layout),
                DkimAlgorithm.ED25519_SHA256);
        assertThat(read.getEncoded()).isEqualTo(key.getEncoded());
        // and the key is usable where DkimKey checks it
        assertThat(new DkimKey("example.com", "s1", DkimAlgorithm.ED25519_SHA256, read).privateKey()).isSameAs(read);
    }

    /** RFC 8017 A.1.2 RSAPrivateKey in an {@code RSA PRIVATE KEY} block is the same key as its PKCS#8 wrapping. */
    @Property(tries = 300)
    void pkcs1RsaKeysReadBackAsTheSameKey(@ForAll @IntRange(min = 0, max = 3) int which,
                                          @ForAll("layouts") Layout layout) throws DkimKeyException {
        PrivateKey key = RSA_KEYS.get(which);
        byte[] pkcs1 = innerPrivateKey(key.getEncoded());
        PrivateKey read = DkimKey.parsePrivateKey(pem("RSA PRIVATE KEY", pkcs1, layout), DkimAlgorithm.RSA_SHA256);
        assertThat(read.getEncoded()).isEqualTo(key.getEncoded());
    }

    @Property(tries = 200)
    void encodeReadsBack(@ForAll boolean rsa, @ForAll @IntRange(min = 0, max = 3) int which) throws DkimKeyException {
        PrivateKey key = rsa ? RSA_KEYS.get(which) : ED_KEYS.get(which);
        DkimAlgorithm a = rsa ? DkimAlgorithm.RSA_SHA256 : DkimAlgorithm.ED25519_SHA256;
        assertThat(DkimKey.parsePrivateKey(PemPrivateKeys.encode(key), a).getEncoded()).isEqualTo(key.getEncoded());
    }

    /** A key of one algorithm configured for the other is refused, naming the configured algorithm. */
    @Property(tries = 100)
    void aKeyOfTheOtherAlgorithmIsRefused(@ForAll boolean rsa, @ForAll @IntRange(min = 0, max = 3) int which,
                                          @ForAll("layouts") Layout layout) {
        PrivateKey key = rsa ? RSA_KEYS.get(which) : ED_KEYS.get(which);
        DkimAlgorithm wrong = rsa ? DkimAlgorithm.ED25519_SHA256 : DkimAlgorithm.RSA_SHA256;
        DkimKeyException e = refusal(pem("PRIVATE KEY", key.getEncoded(), layout), wrong);
        assertThat(e.getMessage()).contains(wrong.tagValue());
    }

    // ---------------------------------------------------------------- damaged PEM

    private static final Pattern DOCUMENTED = Pattern.compile("^(no PEM block found"
            + "|malformed PEM header \\(the BEGIN line must end with '-----'\\)"
            + "|PEM block '.*' (has no END line|is not valid base64)|an RSA PRIVATE KEY cannot be used for .*"
            + "|unsupported PEM block '.*' \\(expected PRIVATE KEY or RSA PRIVATE KEY; encrypted keys are not "
            + "supported; convert one with: openssl pkcs8 -topk8 -nocrypt -in OLD -out NEW\\)"
            + "|not a (RSA|Ed25519) private key usable for (rsa|ed25519)-sha256 \\(.*\\))$",
            Pattern.DOTALL);

    /** One change an editor, a truncated copy or a wrong file could make to a key file. */
    record Damage(int kind, double where, double length, String text) {
        String apply(String pem) {
            int at = (int) (where * pem.length());
            int end = Math.min(pem.length(), at + 1 + (int) (length * 200));
            return switch (kind) {
                case 0 -> pem.substring(0, at); // cut short
                case 1 -> pem.substring(0, at) + pem.substring(end); // a stretch lost
                case 2 -> pem.substring(0, at) + text + pem.substring(at); // something inserted
                case 3 -> pem.substring(0, at) + text + pem.substring(end); // a stretch replaced
                case 4 -> pem.replaceFirst("-----BEGIN ([A-Z ]+)-----", "-----BEGIN " + text + "-----");
                case 5 -> pem.replaceFirst("-----END ([A-Z ]+)-----", "-----END " + text + "-----");
                case 6 -> pem.replaceFirst("KEY-----", "KEY"); // the dashes of the BEGIN line lost
                case 7 -> pem.replace("-----END PRIVATE KEY-----", "").replace("-----END RSA PRIVATE KEY-----", "");
                case 8 -> text + pem; // another block or text first
                default -> pem.toLowerCase(Locale.ROOT);
            };
        }
    }

    @Provide
    Arbitrary<Damage> damage() {
        Arbitrary<String> text = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withChars("ABCabc019+/=-\n\r \t:").ofMaxLength(30)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(20)),
                Tuple.of(2, Arbitraries.of("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "CERTIFICATE",
                        "EC PRIVATE KEY", "-----", "-----BEGIN ", "-----END PRIVATE KEY-----", "", "\u0000",
                        "MII", "====", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")));
        return Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.doubles().between(0, 1),
                Arbitraries.doubles().between(0, 1), text).as(Damage::new);
    }

    @Provide
    Arbitrary<String> garbage() {
        return Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.strings().ofMaxLength(200)),
                Tuple.of(2, Arbitraries.strings().withChars("-BEGINDPRVATKYS \n=+/019").ofMaxLength(200)),
                Tuple.of(1, Combinators.combine(Arbitraries.of("PRIVATE KEY", "RSA PRIVATE KEY", "X"),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(300)).as((t, der) ->
                        pem(t, der, new Layout(64, "\n", "", "")))),
                // DER that starts like a key: a SEQUENCE with plausible and implausible lengths
                Tuple.of(1, Combinators.combine(Arbitraries.of("PRIVATE KEY", "RSA PRIVATE KEY"),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(80)).as((t, tail) -> {
                            byte[] der = new byte[tail.length + 4];
                            der[0] = 0x30;
                            der[1] = (byte) 0x82;
                            der[2] = (byte) (tail.length >> 8);
                            der[3] = (byte) tail.length;
                            System.arraycopy(tail, 0, der, 4, tail.length);
                            return pem(t, der, new Layout(64, "\n", "", ""));
                        })));
    }

    @Property(tries = 2000)
    void damagedKeysAreReadOrRefusedWithADocumentedMessage(@ForAll boolean rsa,
                                                           @ForAll @IntRange(min = 0, max = 3) int which,
                                                           @ForAll boolean pkcs1, @ForAll("layouts") Layout layout,
                                                           @ForAll("damage") Damage damage) {
        String text = damage.apply(keyPem(rsa, which, pkcs1, layout));
        for (DkimAlgorithm a : DkimAlgorithm.values()) {
            readOrRefuse(text, a);
        }
    }

    @Property(tries = 2000)
    void garbageIsRefusedWithADocumentedMessage(@ForAll("garbage") String text) {
        for (DkimAlgorithm a : DkimAlgorithm.values()) {
            readOrRefuse(text, a);
        }
    }

    /**
     * A refusal is logged and printed when the relay starts, so it must not quote the private key: no run of 16
     * base64 characters of the key's body appears in the message.
     */
    @Property(tries = 1000)
    void refusalsNeverQuoteTheKey(@ForAll boolean rsa, @ForAll @IntRange(min = 0, max = 3) int which,
                                  @ForAll boolean pkcs1, @ForAll("layouts") Layout layout,
                                  @ForAll("damage") Damage damage) {
        String original = keyPem(rsa, which, pkcs1, layout);
        String text = damage.apply(original);
        String body = original.substring(original.indexOf("-----", original.indexOf("-----BEGIN ") + 11) + 5,
                original.indexOf("-----END ")).replaceAll("\\s", "");
        for (DkimAlgorithm a : DkimAlgorithm.values()) {
            PrivateKey read = readOrRefuse(text, a);
            if (read == null) {
                String message = refusal(text, a).getMessage().replaceAll("\\s", "");
                for (int i = 0; i + 16 <= body.length(); i += 8) {
                    assertThat(message).as("message of %s", damage).doesNotContain(body.substring(i, i + 16));
                }
            }
        }
    }

    /** The smallest case of the bug above, as a fixed example. */
    @Example
    void aBeginLineWithoutDashesDoesNotQuoteTheKey() {
        String pem = PemPrivateKeys.encode(ED_KEYS.getFirst()).replaceFirst("KEY-----", "KEY");
        String body = pem.lines().toList().get(1);
        assertThat(refusal(pem, DkimAlgorithm.ED25519_SHA256).getMessage()).doesNotContain(body);
    }

    /** Found by {@code damagedKeysAreReadOrRefusedWithADocumentedMessage} in CI: the END line starts at the header's
     *  closing dashes, which once made the body's range negative and threw StringIndexOutOfBoundsException. */
    @Example
    void anEndLineSharingTheBeginLinesDashesIsRefused() {
        String pem = PemPrivateKeys.encode(ED_KEYS.getFirst())
                .replaceFirst("KEY-----\n", "KEY-----END PRIVATE KEY----------\n");
        readOrRefuse(pem, DkimAlgorithm.RSA_SHA256);
        readOrRefuse(pem, DkimAlgorithm.ED25519_SHA256);
        readOrRefuse("-----BEGIN PRIVATE KEY-----END PRIVATE KEY-----", DkimAlgorithm.ED25519_SHA256);
        assertThat(refusal("-----BEGIN PRIVATE KEY-----END PRIVATE KEY-----", DkimAlgorithm.ED25519_SHA256)
                .getMessage()).contains("has no END line");
    }

    private static String keyPem(boolean rsa, int which, boolean pkcs1, Layout layout) {
        PrivateKey key = rsa ? RSA_KEYS.get(which) : ED_KEYS.get(which);
        return rsa && pkcs1 ? pem("RSA PRIVATE KEY", innerPrivateKey(key.getEncoded()), layout)
                : pem("PRIVATE KEY", key.getEncoded(), layout);
    }

    /** The key read from {@code text}, or null after checking that the refusal is a documented one. */
    private static PrivateKey readOrRefuse(String text, DkimAlgorithm a) {
        try {
            PrivateKey key = DkimKey.parsePrivateKey(text, a);
            assertThat(key.getAlgorithm()).as("algorithm of a key read for %s", a)
                    .isIn(a.keyAlgorithm(), "EdDSA");
            return key;
        } catch (DkimKeyException e) {
            assertThat(e.getMessage()).as("refusal of %s", escape(text)).matches(DOCUMENTED);
            return null;
        } catch (RuntimeException e) {
            throw new AssertionError("DkimKey.parsePrivateKey threw " + e + " for " + a + " on " + escape(text), e);
        }
    }

    private static DkimKeyException refusal(String text, DkimAlgorithm a) {
        try {
            DkimKey.parsePrivateKey(text, a);
        } catch (DkimKeyException e) {
            return e;
        }
        return fail("expected a refusal of " + escape(text));
    }

    // ---------------------------------------------------------------- the --dkim-keys setting

    @Provide
    Arbitrary<String> names() {
        Arbitrary<String> label = Combinators.combine(
                Arbitraries.strings().withChars("abcxyzABCXYZ0189_").ofMinLength(1).ofMaxLength(1),
                Arbitraries.strings().withChars("abcXYZ019-_").ofMaxLength(10),
                Arbitraries.strings().withChars("abcXYZ019_").ofMinLength(1).ofMaxLength(1))
                .as((a, b, c) -> a + b + c);
        return Arbitraries.oneOf(label, label.list().ofMinSize(2).ofMaxSize(4).map(l -> String.join(".", l)));
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> segment = Arbitraries.strings().withChars("abcXYZ019._-:@ +").ofMinLength(1).ofMaxLength(10)
                .filter(s -> !s.isBlank() && !s.equals(".") && !s.equals("..") && s.strip().equals(s));
        return Combinators.combine(Arbitraries.of("/", "", "./", "/etc/tern/dkim/"), segment.list().ofMinSize(1)
                .ofMaxSize(4)).as((root, segs) -> root + String.join("/", segs));
    }

    @Property(tries = 2000)
    void keySettingsReadBack(@ForAll("names") String domain, @ForAll("names") String selector,
                             @ForAll boolean rsa, @ForAll boolean upperAlgorithm, @ForAll("paths") String path) {
        DkimAlgorithm a = rsa ? DkimAlgorithm.RSA_SHA256 : DkimAlgorithm.ED25519_SHA256;
        String tag = upperAlgorithm ? a.tagValue().toUpperCase(Locale.ROOT) : a.tagValue();
        String text = domain + ":" + selector + ":" + tag + ":" + path;

        DkimKeySettings s = DkimKeySettings.parse(" " + text + " ");

        assertThat(s.domain()).isEqualTo(domain.toLowerCase(Locale.ROOT));
        assertThat(s.selector()).isEqualTo(selector);
        assertThat(s.algorithm()).isEqualTo(a);
        assertThat(s.privateKeyPem()).isEqualTo(Path.of(path));
        assertThat(DkimKeySettings.parse(s.toString())).isEqualTo(s);
    }

    /**
     * The setting as an operator gives it ({@code --dkim-keys A,B,...}) reads back through {@link ConfigLoader},
     * and what the relay prints as its value reads back to the same list. Paths hold no comma (the list separator).
     */
    @Property(tries = 300)
    void theDkimKeysSettingReadsBack(@ForAll("names") String domain, @ForAll("names") String selector,
                                     @ForAll("paths") String path, @ForAll @IntRange(min = 1, max = 4) int count) {
        List<DkimKeySettings> expected = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            DkimAlgorithm a = DkimAlgorithm.values()[i % 2];
            String line = domain + i + ":" + selector + ":" + a.tagValue() + ":" + path + i;
            text.append(i == 0 ? "" : i % 2 == 0 ? ", " : ",").append(line);
            expected.add(new DkimKeySettings((domain + i).toLowerCase(Locale.ROOT), selector, a, Path.of(path + i)));
        }
        RelayConfig config = ConfigLoader.set(RelayConfig.defaults(), "dkim-keys", text.toString());
        assertThat(config.dkim().keys()).isEqualTo(expected);

        Setting setting = Settings.ALL.stream().filter(s -> s.name().equals("dkim-keys")).findFirst().orElseThrow();
        String printed = ConfigLoader.value(config, setting);
        assertThat(ConfigLoader.set(RelayConfig.defaults(), "dkim-keys", printed).dkim().keys()).isEqualTo(expected);
    }

    @Provide
    Arbitrary<String> settingTexts() {
        Arbitrary<String> part = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withChars("ab.-_:/ ").ofMaxLength(8)),
                Tuple.of(2, Arbitraries.of("rsa-sha256", "ed25519-sha256", "RSA-SHA256", "rsa", "sha256",
                        "ed25519", "", " ", "example.com", "s1", "/k.pem", "\u0000", "a\u0000b")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(8)));
        return part.list().ofMaxSize(6).map(l -> String.join(":", l));
    }

    /** Anything else is refused with IllegalArgumentException (what ConfigLoader lists as a problem), with a text. */
    @Property(tries = 3000)
    void keySettingsAreReadOrRefusedWithIllegalArgument(@ForAll("settingTexts") String text) {
        DkimKeySettings s;
        try {
            s = DkimKeySettings.parse(text);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("message for '%s'", escape(text)).isNotBlank();
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("DkimKeySettings.parse threw " + e + " on '" + escape(text) + "'", e);
        }
        // Read: exactly the documented four parts, algorithm among the known ones.
        String[] parts = text.trim().split(":", 4);
        assertThat(parts).hasSize(4);
        assertThat(parts[0]).isNotBlank();
        assertThat(parts[1]).isNotBlank();
        assertThat(parts[3]).isNotBlank();
        assertThat(s.algorithm().tagValue()).isEqualToIgnoringCase(parts[2]);
        assertThat(s.domain()).isEqualTo(parts[0].toLowerCase(Locale.ROOT));
    }

    // ---------------------------------------------------------------- helpers

    /** The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo: the contents of its OCTET STRING (RFC 5208 5). */
    static byte[] innerPrivateKey(byte[] pkcs8) {
        int[] p = {0};
        expectTag(pkcs8, p, 0x30);
        readLength(pkcs8, p);
        expectTag(pkcs8, p, 0x02); // version
        skip(pkcs8, p);
        expectTag(pkcs8, p, 0x30); // AlgorithmIdentifier
        skip(pkcs8, p);
        expectTag(pkcs8, p, 0x04);
        int n = readLength(pkcs8, p);
        return Arrays.copyOfRange(pkcs8, p[0], p[0] + n);
    }

    private static void expectTag(byte[] der, int[] p, int tag) {
        if ((der[p[0]++] & 0xFF) != tag) {
            throw new IllegalStateException("unexpected DER tag at " + (p[0] - 1));
        }
    }

    private static void skip(byte[] der, int[] p) {
        int n = readLength(der, p);
        p[0] += n;
    }

    private static int readLength(byte[] der, int[] p) {
        int first = der[p[0]++] & 0xFF;
        if (first < 0x80) {
            return first;
        }
        int n = 0;
        for (int i = 0; i < (first & 0x7F); i++) {
            n = (n << 8) | (der[p[0]++] & 0xFF);
        }
        return n;
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : (s.length() > 300 ? s.substring(0, 300) + "..." : s).toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }
}

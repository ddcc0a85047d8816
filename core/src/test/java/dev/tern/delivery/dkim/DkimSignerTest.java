package dev.tern.delivery.dkim;

import static dev.tern.delivery.dkim.DkimSignerVerificationTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Structure of the produced header, key choice and streaming; cryptographic validity is DkimSignerVerificationTest. */
class DkimSignerTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_795_600_000L), ZoneOffset.UTC);
    private static final String HEADERS = "Received: from app by tern; Wed, 25 Nov 2026 16:00:00 +0000\r\n"
            + "From: Alice <alice@example.com>\r\n"
            + "To: bob@example.org\r\n"
            + "Subject: Hello\r\n"
            + "Date: Wed, 25 Nov 2026 16:00:00 +0000\r\n"
            + "Message-ID: <1@example.com>\r\n";
    private static final String MESSAGE = HEADERS + "\r\nHello Bob.\r\n";

    @Test
    void foldsEveryLineToAtMost76Columns() throws Exception {
        List<String> manyHeaders = new java.util.ArrayList<>(DkimSigner.DEFAULT_SIGNED_HEADERS);
        manyHeaders.addAll(List.of("x-a-rather-long-header-name-one", "x-a-rather-long-header-name-two"));
        String message = HEADERS + "X-A-Rather-Long-Header-Name-One: 1\r\nX-A-Rather-Long-Header-Name-Two: 2\r\n"
                + "Cc: c@example.org\r\nReply-To: r@example.org\r\nMIME-Version: 1.0\r\n\r\nbody\r\n";
        DkimSigner signer = new DkimSigner(List.of(TestKeys.rsa()), manyHeaders, Optional.of(Duration.ofDays(1)),
                CLOCK);

        String header = text(signer.sign(ByteBuffer.wrap(bytes(message))).orElseThrow());

        assertThat(header).startsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;").endsWith("\r\n");
        for (String line : header.substring(0, header.length() - 2).split("\r\n", -1)) {
            assertThat(line.length()).as(line).isLessThanOrEqualTo(76);
        }
        assertThat(header.substring(0, header.length() - 2).split("\r\n")).allSatisfy(line -> assertThat(line)
                .matches("^(DKIM-Signature:| ).*"));
    }

    @Test
    void signsThePresentDefaultHeadersButNotReceived() throws Exception {
        Map<String, String> tags = tags(sign(TestKeys.ed25519(), MESSAGE));
        assertThat(tags.get("h")).isEqualTo("from:to:subject:date:message-id");
    }

    @Test
    void signsFromEvenWhenTheMessageHasNone() throws Exception {
        Map<String, String> tags = tags(text(DkimSigner.of(TestKeys.ed25519())
                .signFor("example.com", List.of(ByteBuffer.wrap(bytes("Subject: x\r\n\r\nbody\r\n")))).orElseThrow()));
        assertThat(tags.get("h")).isEqualTo("from:subject");
    }

    @Test
    void listsADuplicatedHeaderOnce() throws Exception {
        Map<String, String> tags = tags(sign(TestKeys.ed25519(), HEADERS + "Subject: again\r\n\r\nx\r\n"));
        assertThat(tags.get("h")).isEqualTo("from:to:subject:date:message-id");
    }

    @Test
    void writesAllRequiredTagsWithTheClockTime() throws Exception {
        Map<String, String> tags = tags(sign(TestKeys.rsa(), MESSAGE));
        assertThat(tags).containsEntry("v", "1").containsEntry("a", "rsa-sha256").containsEntry("c", "relaxed/relaxed")
                .containsEntry("d", "example.com").containsEntry("s", "rsa2026").containsEntry("t", "1795600000")
                .doesNotContainKey("x").containsKeys("bh", "b");
        assertThat(Base64.getDecoder().decode(tags.get("b"))).hasSize(256);
    }

    @Test
    void writesExpiryRelativeToTheTimestamp() throws Exception {
        DkimSigner signer = new DkimSigner(List.of(TestKeys.ed25519()), DkimSigner.DEFAULT_SIGNED_HEADERS,
                Optional.of(Duration.ofHours(1)), CLOCK);
        Map<String, String> tags = tags(text(signer.sign(ByteBuffer.wrap(bytes(MESSAGE))).orElseThrow()));
        assertThat(tags).containsEntry("x", "1795603600");
    }

    @Test
    void bodyHashIsSha256OfTheCanonicalBody() throws Exception {
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(bytes("Hello Bob.\r\n"));
        Map<String, String> tags = tags(sign(TestKeys.ed25519(), HEADERS + "\r\nHello   Bob.  \r\n\r\n\r\n"));
        assertThat(tags.get("bh")).isEqualTo(Base64.getEncoder().encodeToString(expected));
    }

    @Test
    void messageWithoutEmptyLineHasTheEmptyBodyHash() throws Exception {
        Map<String, String> tags = tags(sign(TestKeys.ed25519(), HEADERS));
        assertThat(tags.get("bh")).isEqualTo("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    @Test
    void choosesTheKeyOfTheFromDomain() throws Exception {
        DkimSigner signer = DkimSigner.of(edKey("a.example"), edKey("b.example"));
        DkimSigningStream stream = signer.stream("a.example");
        stream.update(ByteBuffer.wrap(bytes("From: x@B.Example\r\n\r\nbody\r\n")));

        assertThat(tags(text(stream.finish().orElseThrow()))).containsEntry("d", "b.example");
    }

    @Test
    void fallsBackToTheGivenDomainWhenTheFromDomainHasNoKey() throws Exception {
        DkimSigner signer = DkimSigner.of(edKey("a.example"));
        DkimSigningStream stream = signer.stream("a.example");
        stream.update(ByteBuffer.wrap(bytes("From: x@other.example\r\n\r\nbody\r\n")));

        assertThat(tags(text(stream.finish().orElseThrow()))).containsEntry("d", "a.example");
        assertThat(stream.signingDomain()).contains("a.example");
    }

    @Test
    void signsASubdomainWithTheParentDomainKey() throws Exception {
        DkimSigner signer = DkimSigner.of(edKey("example.com"));
        Optional<byte[]> signature = signer.sign(ByteBuffer.wrap(bytes("From: x@news.Example.com\r\n\r\nbody\r\n")));

        assertThat(tags(text(signature.orElseThrow()))).containsEntry("d", "example.com");
    }

    @Test
    void signsNothingWhenNoKeyMatches() throws Exception {
        DkimSigner signer = DkimSigner.of(edKey("example.com"));

        assertThat(signer.sign(ByteBuffer.wrap(bytes("From: x@example.org\r\n\r\nbody\r\n")))).isEmpty();
        assertThat(signer.signFor("example.net", List.of(ByteBuffer.wrap(bytes(MESSAGE))))).isEmpty();
        assertThat(signer.signFor(null, List.of(ByteBuffer.wrap(bytes(MESSAGE))))).isEmpty();
    }

    @Test
    void signForUsesTheGivenDomainWhateverTheFromSays() throws Exception {
        DkimSigner signer = DkimSigner.of(edKey("a.example"), edKey("b.example"));
        Optional<byte[]> signature = signer.signFor("a.example",
                List.of(ByteBuffer.wrap(bytes("From: x@b.example\r\n\r\nbody\r\n"))));

        assertThat(tags(text(signature.orElseThrow()))).containsEntry("d", "a.example");
    }

    @Test
    void givesTheSameSignatureWhereverTheMessageIsSplit() throws Exception {
        DkimSigner signer = new DkimSigner(List.of(TestKeys.ed25519()), DkimSigner.DEFAULT_SIGNED_HEADERS,
                Optional.empty(), CLOCK);
        String crlf = HEADERS + "\r\nline  one \r\n\r\nline two\r\n\r\n";
        for (byte[] message : List.of(bytes(crlf), bytes(crlf.replace("\r\n", "\r")))) {
            String whole = text(signer.signFor("example.com", List.of(ByteBuffer.wrap(message))).orElseThrow());
            for (int split = 0; split <= message.length; split++) {
                ByteBuffer first = ByteBuffer.allocateDirect(split).put(0, message, 0, split);
                ByteBuffer second = ByteBuffer.wrap(message, split, message.length - split).asReadOnlyBuffer();
                String pieces = text(signer.signFor("example.com", List.of(first, second)).orElseThrow());
                assertThat(pieces).as("split at %d", split).isEqualTo(whole);
            }
        }
    }

    @Test
    void headerEndingInBareCrsGivesTheSameSignatureAsCrlf() throws Exception {
        DkimSigner signer = new DkimSigner(List.of(TestKeys.ed25519()), DkimSigner.DEFAULT_SIGNED_HEADERS,
                Optional.empty(), CLOCK);
        String crlf = "From: a@example.com\r\nTo: b@example.org\r\n\r\n\r\nbody\r\n";
        String bareCr = crlf.replace("\r\n", "\r");

        assertThat(text(signer.sign(ByteBuffer.wrap(bytes(bareCr))).orElseThrow()))
                .isEqualTo(text(signer.sign(ByteBuffer.wrap(bytes(crlf))).orElseThrow()));
    }

    @Test
    void leavesTheInputBuffersUnmoved() throws Exception {
        ByteBuffer message = ByteBuffer.wrap(bytes(MESSAGE));
        message.position(0).limit(message.capacity());

        DkimSigner.of(TestKeys.ed25519()).sign(message).orElseThrow();

        assertThat(message.position()).isZero();
        assertThat(message.limit()).isEqualTo(message.capacity());
    }

    @Test
    void doesNotSignAnOversizedHeaderBlock() throws Exception {
        String huge = "From: a@example.com\r\n" + ("X-Filler: " + "y".repeat(1000) + "\r\n").repeat(1100)
                + "\r\nbody\r\n";

        assertThat(DkimSigner.of(TestKeys.ed25519()).sign(ByteBuffer.wrap(bytes(huge)))).isEmpty();
    }

    @Test
    void refusesToFinishTwice() throws Exception {
        DkimSigningStream stream = DkimSigner.of(TestKeys.ed25519()).stream("example.com");
        stream.finish();

        assertThatThrownBy(stream::finish).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void addsFromToASignedHeaderListWithoutIt() throws Exception {
        DkimSigner signer = new DkimSigner(List.of(TestKeys.ed25519()), List.of("Subject", "TO"), Optional.empty(),
                CLOCK);
        assertThat(signer.signedHeaders()).containsExactly("from", "subject", "to");
    }

    @Test
    void rejectsDkimSignatureInTheSignedHeaderList() throws Exception {
        DkimKey key = TestKeys.ed25519();
        assertThatThrownBy(() -> new DkimSigner(List.of(key), List.of("from", "DKIM-Signature"), Optional.empty(),
                CLOCK)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsAHeaderNameWithAColon() throws Exception {
        DkimKey key = TestKeys.ed25519();
        assertThatThrownBy(() -> new DkimSigner(List.of(key), List.of("from:to"), Optional.empty(), CLOCK))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsTwoKeysWithOneSelector() throws Exception {
        List<DkimKey> keys = List.of(edKey("example.com"), edKey("example.com"));
        assertThatThrownBy(() -> new DkimSigner(keys, DkimSigner.DEFAULT_SIGNED_HEADERS, Optional.empty(), CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("selector s1");
    }

    @Test
    void rejectsAnInvalidSigningDomain() throws Exception {
        PrivateKey key = TestKeys.ed25519().privateKey();
        assertThatThrownBy(() -> new DkimKey("exa mple.com", "s1", DkimAlgorithm.ED25519_SHA256, key))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("domain");
    }

    @Test
    void fromSettingsReportsEveryUnusableKey() {
        Path missing = Path.of("/nonexistent/one.pem");
        Path wrongType = DkimpyVerifier.resource("rsa2048-pkcs8.pem");
        DkimSettings settings = new DkimSettings(List.of(
                new DkimKeySettings("a.example", "s1", DkimAlgorithm.RSA_SHA256, missing),
                new DkimKeySettings("b.example", "s1", DkimAlgorithm.ED25519_SHA256, wrongType)),
                DkimSigner.DEFAULT_SIGNED_HEADERS, Optional.empty());

        assertThatThrownBy(() -> DkimSigner.fromSettings(settings, CLOCK))
                .isInstanceOf(DkimKeyException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining(wrongType.toString());
    }

    @Test
    void fromSettingsLoadsEveryKey() throws Exception {
        DkimSettings settings = new DkimSettings(List.of(
                new DkimKeySettings("Example.com", "rsa2026", DkimAlgorithm.RSA_SHA256,
                        DkimpyVerifier.resource("rsa2048-pkcs1.pem")),
                new DkimKeySettings("example.com", "ed2026", DkimAlgorithm.fromTagValue("Ed25519-SHA256"),
                        DkimpyVerifier.resource("ed25519-pkcs8.pem"))),
                DkimSigner.DEFAULT_SIGNED_HEADERS, Optional.empty());

        DkimSigner signer = DkimSigner.fromSettings(settings, CLOCK);

        assertThat(signer.domains()).containsExactly("example.com");
        assertThat(text(signer.sign(ByteBuffer.wrap(bytes(MESSAGE))).orElseThrow()).split("DKIM-Signature:"))
                .hasSize(3);
    }

    @Test
    void defaultSettingsHaveNoKeys() throws Exception {
        assertThat(DkimSigner.fromSettings(DkimSettings.defaults(), CLOCK).hasKeys()).isFalse();
    }

    private static String sign(DkimKey key, String message) {
        DkimSigner signer = new DkimSigner(List.of(key), DkimSigner.DEFAULT_SIGNED_HEADERS, Optional.empty(), CLOCK);
        return text(signer.sign(ByteBuffer.wrap(bytes(message))).orElseThrow());
    }

    private static DkimKey edKey(String domain) throws Exception {
        return new DkimKey(domain, "s1", DkimAlgorithm.ED25519_SHA256,
                KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate());
    }

    private static String text(byte[] header) {
        return new String(header, StandardCharsets.US_ASCII);
    }

    /** The tags of one DKIM-Signature field, whitespace removed from values. */
    static Map<String, String> tags(String header) {
        String value = header.substring(header.indexOf(':') + 1).replace("\r\n", "");
        Map<String, String> tags = new LinkedHashMap<>();
        for (String spec : value.split(";")) {
            int eq = spec.indexOf('=');
            if (eq > 0) {
                tags.put(spec.substring(0, eq).strip(), spec.substring(eq + 1).replaceAll("[ \t]", ""));
            }
        }
        return tags;
    }
}

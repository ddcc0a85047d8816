package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signs messages with Tern and verifies them with an independent implementation (dkimpy). */
class DkimSignerVerificationTest {
    private static final String RECEIVED = "Received: from app.example.com (app [127.0.0.1])\r\n"
            + "\tby tern.example.net with ESMTP id 00000000000000A1; Wed, 25 Nov 2026 16:00:00 +0000\r\n";
    private static final String HEADERS = RECEIVED
            + "From: Alice <alice@example.com>\r\n"
            + "To: bob@example.org\r\n"
            + "Subject: Hello\r\n"
            + "Date: Wed, 25 Nov 2026 16:00:00 +0000\r\n"
            + "Message-ID: <1@example.com>\r\n";

    @TempDir
    Path tmp;

    @Test
    void rsaSignatureOfPlainMessageVerifies() throws Exception {
        assertVerifies(TestKeys.rsa(), HEADERS + "\r\nHello Bob.\r\n");
    }

    @Test
    void ed25519SignatureOfPlainMessageVerifies() throws Exception {
        assertVerifies(TestKeys.ed25519(), HEADERS + "\r\nHello Bob.\r\n");
    }

    @Test
    void pkcs1RsaKeySignatureVerifies() throws Exception {
        assertVerifies(TestKeys.rsaFromPkcs1(), HEADERS + "\r\nHello Bob.\r\n");
    }

    @Test
    void foldedHeadersVerify() throws Exception {
        String message = RECEIVED + "From: Alice\r\n <alice@example.com>\r\n"
                + "To: bob@example.org,\r\n\tcarol@example.org\r\n"
                + "Subject: a   long\r\n   folded\t\r\n\tsubject   \r\n\r\nbody\r\n";
        assertVerifies(TestKeys.rsa(), message);
        assertVerifies(TestKeys.ed25519(), message);
    }

    @Test
    void trailingWhitespaceInBodyVerifies() throws Exception {
        String message = HEADERS + "\r\nline one   \r\n\tindented\t \t line\t\r\n  \r\nend \r\n";
        assertVerifies(TestKeys.rsa(), message);
        assertVerifies(TestKeys.ed25519(), message);
    }

    @Test
    void emptyBodyVerifies() throws Exception {
        assertVerifies(TestKeys.rsa(), HEADERS + "\r\n");
        assertVerifies(TestKeys.ed25519(), HEADERS + "\r\n");
    }

    @Test
    void messageWithoutBodySeparatorVerifies() throws Exception {
        assertVerifies(TestKeys.rsa(), HEADERS);
    }

    @Test
    void bodyWithoutFinalCrlfVerifies() throws Exception {
        assertVerifies(TestKeys.rsa(), HEADERS + "\r\nno final line end");
        assertVerifies(TestKeys.ed25519(), HEADERS + "\r\nfirst\r\nno final line end");
    }

    @Test
    void bodyEndingInWhitespaceWithoutCrlfVerifiesAsTransmitted() throws Exception {
        // The SMTP client adds the missing CRLF before the final dot (RFC 5321 4.1.1.4): the receiver sees it.
        String message = HEADERS + "\r\nfirst\r\nlast line with trailing blanks \t ";
        byte[] signature = signer(TestKeys.ed25519()).sign(ByteBuffer.wrap(bytes(message))).orElseThrow();

        DkimpyVerifier.Result result = verify(concat(signature, bytes(message + "\r\n")));

        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    @Test
    void eightBitUtf8HeadersVerify() throws Exception {
        String message = RECEIVED + "From: Jörg Ünal <joerg@example.com>\r\nTo: 山田 <yamada@example.org>\r\n"
                + "Subject: Grüße aus Köln — ☕\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße\r\n";
        assertVerifies(TestKeys.rsa(), message);
        assertVerifies(TestKeys.ed25519(), message);
    }

    @Test
    void manyTrailingEmptyLinesVerify() throws Exception {
        assertVerifies(TestKeys.rsa(), HEADERS + "\r\nbody\r\n" + "\r\n".repeat(500));
        assertVerifies(TestKeys.ed25519(), HEADERS + "\r\n" + " \r\n\t\r\n".repeat(100));
    }

    @Test
    void duplicateHeadersSignTheLastInstance() throws Exception {
        String message = HEADERS + "Subject: second subject\r\n\r\nbody\r\n";
        byte[] signature = signer(TestKeys.rsa()).sign(ByteBuffer.wrap(bytes(message))).orElseThrow();
        String signed = new String(signature, StandardCharsets.UTF_8) + message;

        String firstChanged = signed.replace("Subject: Hello", "Subject: Changed");
        String lastChanged = signed.replace("Subject: second subject", "Subject: changed subject");

        assertThat(verify(bytes(firstChanged)).allPassed()).isTrue();
        assertThat(verify(bytes(lastChanged)).allPassed()).isFalse();
    }

    @Test
    void rsaAndEd25519KeysOfOneDomainBothSign() throws Exception {
        String message = HEADERS + "\r\nHello Bob.\r\n";
        byte[] signatures = signer(TestKeys.rsa(), TestKeys.ed25519()).sign(ByteBuffer.wrap(bytes(message)))
                .orElseThrow();

        DkimpyVerifier.Result result = verify(concat(signatures, bytes(message)));

        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
        assertThat(result.stdout()).contains("0 PASS example.com rsa-sha256")
                .contains("1 PASS example.com ed25519-sha256");
    }

    @Test
    void signatureWithExpiryVerifies() throws Exception {
        DkimSigner signer = new DkimSigner(List.of(TestKeys.ed25519()), DkimSigner.DEFAULT_SIGNED_HEADERS,
                Optional.of(Duration.ofDays(7)), Clock.systemUTC());
        String message = HEADERS + "\r\nHello Bob.\r\n";
        byte[] signature = signer.sign(ByteBuffer.wrap(bytes(message))).orElseThrow();

        DkimpyVerifier.Result result = verify(concat(signature, bytes(message)));

        assertThat(new String(signature, StandardCharsets.US_ASCII)).contains(" x=");
        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    @Test
    void foldedSignedHeaderListVerifies() throws Exception {
        List<String> names = new java.util.ArrayList<>(DkimSigner.DEFAULT_SIGNED_HEADERS);
        names.addAll(List.of("x-a-rather-long-header-name-one", "x-a-rather-long-header-name-two"));
        String message = HEADERS + "X-A-Rather-Long-Header-Name-One: 1\r\nX-A-Rather-Long-Header-Name-Two: 2\r\n"
                + "Cc: c@example.org\r\nReply-To: r@example.org\r\nMIME-Version: 1.0\r\n\r\nbody\r\n";
        DkimSigner signer = new DkimSigner(List.of(TestKeys.rsa()), names, Optional.empty(), Clock.systemUTC());
        byte[] signature = signer.sign(ByteBuffer.wrap(bytes(message))).orElseThrow();

        DkimpyVerifier.Result result = verify(concat(signature, bytes(message)));

        String header = new String(signature, StandardCharsets.US_ASCII);
        String hTag = header.substring(header.indexOf(" h="), header.indexOf(';', header.indexOf(" h=")));
        assertThat(hTag).contains(":\r\n ");
        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    @Test
    void bareLineEndsVerifyAsTheSmtpClientSendsThem() throws Exception {
        String stored = HEADERS.replace("To: bob@example.org\r\n", "To: bob@example.org\n")
                + "\r\nline one\nline two\rline three \r\n";
        byte[] signature = signer(TestKeys.ed25519()).sign(ByteBuffer.wrap(bytes(stored))).orElseThrow();
        String onTheWire = stored.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");

        DkimpyVerifier.Result result = verify(concat(signature, bytes(onTheWire)));

        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    @Test
    void alteredBodyFailsVerification() throws Exception {
        String message = HEADERS + "\r\nPay 10 EUR.\r\n";
        byte[] signature = signer(TestKeys.rsa()).sign(ByteBuffer.wrap(bytes(message))).orElseThrow();

        DkimpyVerifier.Result result = verify(concat(signature, bytes(message.replace("10", "99"))));

        assertThat(result.allPassed()).isFalse();
    }

    @Test
    void addedReceivedHeaderAboveSignatureStillVerifies() throws Exception {
        String message = HEADERS + "\r\nbody\r\n";
        byte[] signature = signer(TestKeys.ed25519()).sign(ByteBuffer.wrap(bytes(message))).orElseThrow();
        byte[] relayed = concat(bytes("Received: from tern.example.net by mx.example.org; Wed, 25 Nov 2026\r\n"),
                concat(signature, bytes(message)));

        assertThat(verify(relayed).allPassed()).isTrue();
    }

    @Test
    void messageStreamedInSmallPiecesVerifies() throws Exception {
        byte[] message = bytes(HEADERS + "\r\n" + "a line of body text  \r\n".repeat(2000));
        DkimSigningStream stream = signer(TestKeys.rsa()).stream(null);
        for (int i = 0; i < message.length; i += 7) {
            stream.update(ByteBuffer.allocateDirect(7).put(0, message, i, Math.min(7, message.length - i))
                    .limit(Math.min(7, message.length - i)));
        }

        DkimpyVerifier.Result result = verify(concat(stream.finish().orElseThrow(), message));

        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    private void assertVerifies(DkimKey key, String message) throws Exception {
        byte[] signature = signer(key).sign(ByteBuffer.wrap(bytes(message))).orElseThrow();
        DkimpyVerifier.Result result = verify(concat(signature, bytes(message)));
        assertThat(result.allPassed())
                .as("dkimpy verification of\n%s%s\nstdout: %s\nstderr: %s",
                        new String(signature, StandardCharsets.UTF_8), message, result.stdout(), result.stderr())
                .isTrue();
    }

    private DkimpyVerifier.Result verify(byte[] message) throws Exception {
        return DkimpyVerifier.verify(message, TestKeys.records(), tmp);
    }

    private static DkimSigner signer(DkimKey... keys) {
        return DkimSigner.of(keys);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package dev.tern.delivery.dkim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DkimKeyFilesTest {
    @TempDir
    Path tmp;

    @Test
    void loadsPkcs8RsaKey() throws Exception {
        PrivateKey key = DkimKey.readPrivateKey(DkimpyVerifier.resource("rsa2048-pkcs8.pem"),
                DkimAlgorithm.RSA_SHA256);
        assertThat(key.getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void loadsPkcs1RsaKeyAsTheSameKey() throws Exception {
        PrivateKey pkcs8 = DkimKey.readPrivateKey(DkimpyVerifier.resource("rsa2048-pkcs8.pem"),
                DkimAlgorithm.RSA_SHA256);
        PrivateKey pkcs1 = DkimKey.readPrivateKey(DkimpyVerifier.resource("rsa2048-pkcs1.pem"),
                DkimAlgorithm.RSA_SHA256);
        assertThat(pkcs1.getEncoded()).isEqualTo(pkcs8.getEncoded());
    }

    @Test
    void loadsPkcs8Ed25519Key() throws Exception {
        PrivateKey key = DkimKey.readPrivateKey(DkimpyVerifier.resource("ed25519-pkcs8.pem"),
                DkimAlgorithm.ED25519_SHA256);
        assertThat(key.getAlgorithm()).isIn("Ed25519", "EdDSA");
    }

    @Test
    void loadsAKeyWrittenByTheJdk() throws Exception {
        PrivateKey generated = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(generated.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";

        assertThat(DkimKey.parsePrivateKey(pem, DkimAlgorithm.ED25519_SHA256).getEncoded())
                .isEqualTo(generated.getEncoded());
    }

    @Test
    void rejectsAnRsaKeyConfiguredAsEd25519() {
        assertThatThrownBy(() -> DkimKey.readPrivateKey(DkimpyVerifier.resource("rsa2048-pkcs8.pem"),
                DkimAlgorithm.ED25519_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining("ed25519-sha256");
    }

    @Test
    void rejectsAnEd25519KeyConfiguredAsRsa() {
        assertThatThrownBy(() -> DkimKey.readPrivateKey(DkimpyVerifier.resource("ed25519-pkcs8.pem"),
                DkimAlgorithm.RSA_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining("rsa-sha256");
    }

    @Test
    void rejectsAnEncryptedKeyWithAClearMessage() {
        String pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assertThatThrownBy(() -> DkimKey.parsePrivateKey(pem, DkimAlgorithm.RSA_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining("encrypted keys are not supported");
    }

    @Test
    void rejectsTextWithoutPemBlock() {
        assertThatThrownBy(() -> DkimKey.parsePrivateKey("hello", DkimAlgorithm.RSA_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining("no PEM block");
    }

    @Test
    void rejectsAMissingFileNamingIt() {
        Path missing = tmp.resolve("missing.pem");
        assertThatThrownBy(() -> DkimKey.readPrivateKey(missing, DkimAlgorithm.RSA_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining(missing.toString());
    }

    @Test
    void rejectsCorruptKeyBytes() throws Exception {
        Path corrupt = tmp.resolve("corrupt.pem");
        Files.writeString(corrupt, "-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> DkimKey.readPrivateKey(corrupt, DkimAlgorithm.RSA_SHA256))
                .isInstanceOf(DkimKeyException.class).hasMessageContaining(corrupt.toString());
    }
}

package dev.tern.pem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link PemPrivateKeys} shares between its users: which block of a file it reads, and its messages. The forms
 * and damaged files are covered through each user (DkimKeyFilesProperties, ServerTlsContextProperties).
 */
class PemPrivateKeysTest {
    private static final List<String> ANY = List.of("RSA", "EC", "Ed25519");
    private static final String CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n";

    @Test
    void blocksBeforeTheKeyArePassedOver() throws Exception {
        PrivateKey ec = KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate();
        String params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        String text = "subject=CN=example\n" + CERTIFICATE + params + PemPrivateKeys.encode(ec);
        assertThat(PemPrivateKeys.parse(text, "TLS", ANY).getEncoded()).isEqualTo(ec.getEncoded());
    }

    @Test
    void aFileWithoutAKeyNamesItsFirstBlockAndHowToConvert() {
        assertThatThrownBy(() -> PemPrivateKeys.parse(CERTIFICATE, "TLS", ANY)).isInstanceOf(PemKeyException.class)
                .hasMessageStartingWith("unsupported PEM block 'CERTIFICATE'")
                .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void aKeyOfNoGivenAlgorithmNamesThemAndTheUse() throws Exception {
        PrivateKey ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
        assertThatThrownBy(() -> PemPrivateKeys.parse(PemPrivateKeys.encode(ed), "signing", List.of("RSA", "EC")))
                .isInstanceOf(PemKeyException.class)
                .hasMessageStartingWith("not a RSA or EC private key usable for signing");
    }

    @Test
    void aTraditionalRsaKeyIsRefusedWhereRsaIsNotAllowed() {
        String pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nMIIBAA==\n-----END RSA PRIVATE KEY-----\n";
        assertThatThrownBy(() -> PemPrivateKeys.parse(pkcs1, "ed25519-sha256", List.of("Ed25519")))
                .isInstanceOf(PemKeyException.class)
                .hasMessage("an RSA PRIVATE KEY cannot be used for ed25519-sha256");
    }
}

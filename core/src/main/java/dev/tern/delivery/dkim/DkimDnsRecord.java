package dev.tern.delivery.dkim;

import java.security.PublicKey;
import java.util.Arrays;
import java.util.Base64;

/**
 * The DNS TXT record that publishes a DKIM public key (RFC 6376 3.6.1), at {@code selector._domainkey.domain}.
 *
 * <p>Threading: stateless, safe everywhere.
 */
public final class DkimDnsRecord {
    /** X.509 SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte prefix, then the 32-byte key (RFC 8410 4). */
    private static final int ED25519_SPKI_LENGTH = 44;
    private static final int ED25519_KEY_LENGTH = 32;

    private DkimDnsRecord() {
    }

    /** The owner name of the record, e.g. {@code s1._domainkey.example.com}. */
    public static String name(String selector, String domain) {
        return selector + "._domainkey." + domain;
    }

    /**
     * The record text: {@code v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>} for RSA, and for Ed25519
     * {@code v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte key>} (RFC 8463 4).
     */
    public static String txt(PublicKey key, DkimAlgorithm algorithm) {
        byte[] encoded = key.getEncoded();
        return switch (algorithm) {
            case RSA_SHA256 -> {
                if (!"RSA".equals(key.getAlgorithm())) {
                    throw new IllegalArgumentException("not an RSA public key: " + key.getAlgorithm());
                }
                yield "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(encoded);
            }
            case ED25519_SHA256 -> {
                if (encoded.length != ED25519_SPKI_LENGTH) {
                    throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
                }
                byte[] raw = Arrays.copyOfRange(encoded, ED25519_SPKI_LENGTH - ED25519_KEY_LENGTH, encoded.length);
                yield "v=DKIM1; k=ed25519; p=" + Base64.getEncoder().encodeToString(raw);
            }
        };
    }
}

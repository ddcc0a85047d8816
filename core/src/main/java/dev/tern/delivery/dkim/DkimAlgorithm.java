package dev.tern.delivery.dkim;

import java.util.Locale;

/**
 * The signing algorithms Tern offers (the a= tag). Both hash with SHA-256; only the signature step differs.
 *
 * <p>Threading: an immutable enum, safe everywhere.
 */
public enum DkimAlgorithm {
    /** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 3.3.1): signs the header data itself. */
    RSA_SHA256("rsa-sha256", "RSA", "SHA256withRSA"),
    /**
     * PureEdDSA Ed25519 over the SHA-256 digest of the header data (RFC 8463 3): the header data is hashed first and
     * the 32-byte digest is what Ed25519 signs.
     */
    ED25519_SHA256("ed25519-sha256", "Ed25519", "Ed25519");

    private final String tagValue;
    private final String keyAlgorithm;
    private final String jcaSignature;

    DkimAlgorithm(String tagValue, String keyAlgorithm, String jcaSignature) {
        this.tagValue = tagValue;
        this.keyAlgorithm = keyAlgorithm;
        this.jcaSignature = jcaSignature;
    }

    /** The value of the a= tag, e.g. {@code rsa-sha256}. */
    public String tagValue() {
        return tagValue;
    }

    /** The JCA key algorithm name ({@code RSA}, {@code Ed25519}), as {@link java.security.Key#getAlgorithm()}. */
    String keyAlgorithm() {
        return keyAlgorithm;
    }

    /** The JCA {@link java.security.Signature} algorithm name. */
    String jcaSignature() {
        return jcaSignature;
    }

    /** Whether the header data is hashed with SHA-256 before the signature primitive sees it (RFC 8463). */
    boolean signsDigest() {
        return this == ED25519_SHA256;
    }

    /** Parses an a= tag value or a config value ({@code rsa-sha256}, {@code ed25519-sha256}), case-insensitively. */
    public static DkimAlgorithm fromTagValue(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (DkimAlgorithm a : values()) {
            if (a.tagValue.equals(v)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown DKIM algorithm '" + value + "' (expected rsa-sha256 or "
                + "ed25519-sha256)");
    }
}

package dev.tern.delivery.dkim;

import dev.tern.pem.PemKeyException;
import dev.tern.pem.PemPrivateKeys;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One signing identity: the signing domain (d=), the selector (s=), the algorithm (a=) and the private key.
 *
 * <p>Threading: immutable; the {@link PrivateKey} is only read, so one instance may sign on many threads.
 *
 * @param domain     the signing domain, lower-cased ASCII (an IDN must be given as its A-label)
 * @param selector   the selector, lower-cased; the public key is published at {@code selector._domainkey.domain}
 * @param algorithm  rsa-sha256 or ed25519-sha256
 * @param privateKey an RSA key (2048 bits or more recommended, RFC 8301) or an Ed25519 key
 */
public record DkimKey(String domain, String selector, DkimAlgorithm algorithm, PrivateKey privateKey) {
    /** RFC 6376 3.1 selector and 3.5 d= domain: dot-separated labels of letters, digits, hyphens (and '_'). */
    private static final Pattern DOMAIN_NAME = Pattern.compile(
            "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");

    public DkimKey {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(privateKey, "privateKey");
        domain = domain.toLowerCase(Locale.ROOT);
        selector = selector.toLowerCase(Locale.ROOT);
        if (!DOMAIN_NAME.matcher(domain).matches() || domain.length() > 253) {
            throw new IllegalArgumentException("invalid DKIM signing domain '" + domain + "'");
        }
        if (!DOMAIN_NAME.matcher(selector).matches()) {
            throw new IllegalArgumentException("invalid DKIM selector '" + selector + "'");
        }
        if (!algorithm.keyAlgorithm().equalsIgnoreCase(privateKey.getAlgorithm())
                && !(algorithm == DkimAlgorithm.ED25519_SHA256 && "EdDSA".equals(privateKey.getAlgorithm()))) {
            throw new IllegalArgumentException("a " + privateKey.getAlgorithm() + " key cannot sign "
                    + algorithm.tagValue());
        }
    }

    /** Loads the private key of {@code settings} from its PEM file. */
    public static DkimKey load(DkimKeySettings settings) throws DkimKeyException {
        PrivateKey key = readPrivateKey(settings.privateKeyPem(), settings.algorithm());
        try {
            return new DkimKey(settings.domain(), settings.selector(), settings.algorithm(), key);
        } catch (IllegalArgumentException e) {
            throw new DkimKeyException(e.getMessage(), e);
        }
    }

    /** Loads a key from a PEM file (PKCS#8 {@code PRIVATE KEY}, or PKCS#1 {@code RSA PRIVATE KEY} for RSA). */
    public static DkimKey load(String domain, String selector, DkimAlgorithm algorithm, Path pem)
            throws DkimKeyException {
        return load(new DkimKeySettings(domain, selector, algorithm, pem));
    }

    /** The key in PEM file {@code pem} (see {@link PemPrivateKeys}), usable for {@code algorithm}. */
    static PrivateKey readPrivateKey(Path pem, DkimAlgorithm algorithm) throws DkimKeyException {
        try {
            return PemPrivateKeys.load(pem, algorithm.tagValue(), List.of(algorithm.keyAlgorithm()));
        } catch (PemKeyException e) {
            throw new DkimKeyException("DKIM key file " + e.getMessage(), e);
        }
    }

    /** The key in PEM text, usable for {@code algorithm}. */
    static PrivateKey parsePrivateKey(String pemText, DkimAlgorithm algorithm) throws DkimKeyException {
        try {
            return PemPrivateKeys.parse(pemText, algorithm.tagValue(), List.of(algorithm.keyAlgorithm()));
        } catch (PemKeyException e) {
            throw new DkimKeyException(e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        // Never print key material.
        return "DkimKey[" + selector + "._domainkey." + domain + ", " + algorithm.tagValue() + "]";
    }
}

package dev.tern.delivery.dkim;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Configuration of one DKIM key, before the key file is read.
 *
 * @param domain        the signing domain (d=)
 * @param selector      the selector (s=)
 * @param algorithm     rsa-sha256 or ed25519-sha256
 * @param privateKeyPem the PEM file holding the private key
 */
public record DkimKeySettings(String domain, String selector, DkimAlgorithm algorithm, Path privateKeyPem) {
    public DkimKeySettings {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    }
}

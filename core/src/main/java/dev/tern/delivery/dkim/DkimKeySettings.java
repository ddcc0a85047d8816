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

    /**
     * Parses the config form {@code domain:selector:algorithm:/path/to/key.pem}, e.g.
     * {@code example.com:s2026:ed25519-sha256:/etc/tern/dkim/example.com.pem}.
     */
    public static DkimKeySettings parse(String text) {
        String[] parts = text.trim().split(":", 4);
        if (parts.length != 4 || parts[0].isBlank() || parts[1].isBlank() || parts[3].isBlank()) {
            throw new IllegalArgumentException("expected DOMAIN:SELECTOR:ALGORITHM:PEM-FILE, got '" + text.trim()
                    + "'");
        }
        DkimAlgorithm algorithm = null;
        for (DkimAlgorithm a : DkimAlgorithm.values()) {
            if (a.tagValue().equalsIgnoreCase(parts[2])) {
                algorithm = a;
            }
        }
        if (algorithm == null) {
            throw new IllegalArgumentException("unknown DKIM algorithm '" + parts[2]
                    + "' (rsa-sha256, ed25519-sha256)");
        }
        return new DkimKeySettings(parts[0].toLowerCase(java.util.Locale.ROOT), parts[1], algorithm, Path.of(parts[3]));
    }

    @Override
    public String toString() {
        return domain + ":" + selector + ":" + algorithm.tagValue() + ":" + privateKeyPem;
    }
}

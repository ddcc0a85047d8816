package dev.tern.delivery.dkim;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * DKIM signing settings, immutable. No keys means no signing.
 *
 * @param keys          the keys; two keys of one domain (e.g. rsa-sha256 and ed25519-sha256) both sign (RFC 8463 6)
 * @param signedHeaders header field names to sign when present ("from" is always signed, RFC 6376 5.4)
 * @param expiry        when set, the x= tag is t= plus this (RFC 6376 3.5)
 */
public record DkimSettings(List<DkimKeySettings> keys, List<String> signedHeaders, Optional<Duration> expiry) {
    public DkimSettings {
        keys = List.copyOf(keys);
        signedHeaders = List.copyOf(signedHeaders);
        if (expiry.isPresent() && (expiry.get().isNegative() || expiry.get().toSeconds() < 1)) {
            throw new IllegalArgumentException("DKIM signature expiry must be at least one second");
        }
    }

    /** No keys (signing off), the default header list, no x= tag. */
    public static DkimSettings defaults() {
        return new DkimSettings(List.of(), DkimSigner.DEFAULT_SIGNED_HEADERS, Optional.empty());
    }
}

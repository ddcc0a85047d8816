package dev.tern.delivery.dkim;

import java.nio.file.Path;
import java.util.Map;

/** The fixed test keys under src/test/resources/dkim (generated with openssl) and their DNS records. */
final class TestKeys {
    static final String DOMAIN = "example.com";
    static final String RSA_SELECTOR = "rsa2026";
    static final String ED_SELECTOR = "ed2026";

    private TestKeys() {
    }

    static DkimKey rsa() throws DkimKeyException {
        return DkimKey.load(DOMAIN, RSA_SELECTOR, DkimAlgorithm.RSA_SHA256,
                DkimpyVerifier.resource("rsa2048-pkcs8.pem"));
    }

    static DkimKey rsaFromPkcs1() throws DkimKeyException {
        return DkimKey.load(DOMAIN, RSA_SELECTOR, DkimAlgorithm.RSA_SHA256,
                DkimpyVerifier.resource("rsa2048-pkcs1.pem"));
    }

    static DkimKey ed25519() throws DkimKeyException {
        return DkimKey.load(DOMAIN, ED_SELECTOR, DkimAlgorithm.ED25519_SHA256,
                DkimpyVerifier.resource("ed25519-pkcs8.pem"));
    }

    /** DNS name to TXT record file, for both keys. */
    static Map<String, Path> records() {
        return Map.of(RSA_SELECTOR + "._domainkey." + DOMAIN, DkimpyVerifier.resource("rsa2048.dns.txt"),
                ED_SELECTOR + "._domainkey." + DOMAIN, DkimpyVerifier.resource("ed25519.dns.txt"));
    }
}

package dev.tern.delivery.dkim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * Reads private keys from PEM text with the JDK alone: PKCS#8 {@code PRIVATE KEY} (RSA or Ed25519, as
 * {@code openssl genpkey} writes them) and PKCS#1 {@code RSA PRIVATE KEY} (as {@code openssl genrsa -traditional}
 * and older OpenDKIM tooling write them), which is re-wrapped as PKCS#8.
 *
 * <p>Threading: stateless, safe everywhere.
 */
final class PemPrivateKeys {
    private static final String PKCS8 = "PRIVATE KEY";
    private static final String PKCS1_RSA = "RSA PRIVATE KEY";

    /** DER of AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } (RFC 8017 A.1). */
    private static final byte[] RSA_ALGORITHM_ID = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    private PemPrivateKeys() {
    }

    static PrivateKey load(Path pem, DkimAlgorithm algorithm) throws DkimKeyException {
        String text;
        try {
            text = Files.readString(pem, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            throw new DkimKeyException("cannot read DKIM key file " + pem + ": " + e.getMessage(), e);
        }
        try {
            return parse(text, algorithm);
        } catch (DkimKeyException e) {
            throw new DkimKeyException(pem + ": " + e.getMessage(), e);
        }
    }

    static PrivateKey parse(String pemText, DkimAlgorithm algorithm) throws DkimKeyException {
        int begin = pemText.indexOf("-----BEGIN ");
        if (begin < 0) {
            throw new DkimKeyException("no PEM block found");
        }
        int typeEnd = pemText.indexOf("-----", begin + 11);
        int lineEnd = pemText.indexOf('\n', begin);
        if (typeEnd < 0 || (lineEnd >= 0 && lineEnd < typeEnd) || typeEnd - begin - 11 > 40) {
            // The type ends on the BEGIN line: read further, it would take in the key itself, which a message
            // must never quote.
            throw new DkimKeyException("malformed PEM header (the BEGIN line must end with '-----')");
        }
        String type = pemText.substring(begin + 11, typeEnd);
        String footer = "-----END " + type + "-----";
        // The footer is looked for after the header's closing dashes, which it must not share.
        int bodyStart = typeEnd + 5;
        int end = pemText.indexOf(footer, bodyStart);
        if (end < 0) {
            throw new DkimKeyException("PEM block '" + type + "' has no END line");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pemText.substring(bodyStart, end));
        } catch (IllegalArgumentException e) {
            throw new DkimKeyException("PEM block '" + type + "' is not valid base64", e);
        }
        byte[] pkcs8 = switch (type) {
            case PKCS8 -> der;
            case PKCS1_RSA -> {
                if (algorithm != DkimAlgorithm.RSA_SHA256) {
                    throw new DkimKeyException("an RSA PRIVATE KEY cannot be used for " + algorithm.tagValue());
                }
                yield wrapPkcs1(der);
            }
            default -> throw new DkimKeyException("unsupported PEM block '" + type + "' (expected PRIVATE KEY "
                    + "or RSA PRIVATE KEY; encrypted keys are not supported)");
        };
        try {
            return KeyFactory.getInstance(algorithm.keyAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new DkimKeyException("not a " + algorithm.keyAlgorithm() + " private key usable for "
                    + algorithm.tagValue() + " (" + e.getMessage() + ")", e);
        }
    }

    /** PKCS#8 PEM text ({@code -----BEGIN PRIVATE KEY-----}, 64 base64 characters a line) of {@code key}. */
    static String encode(PrivateKey key) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded());
        return "-----BEGIN " + PKCS8 + "-----\n" + body + "\n-----END " + PKCS8 + "-----\n";
    }

    /** PrivateKeyInfo ::= SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING RSAPrivateKey } (RFC 5208 5). */
    private static byte[] wrapPkcs1(byte[] rsaPrivateKey) {
        byte[] version = {0x02, 0x01, 0x00};
        byte[] octetHeader = derHeader(0x04, rsaPrivateKey.length);
        int contentLength = version.length + RSA_ALGORITHM_ID.length + octetHeader.length + rsaPrivateKey.length;
        byte[] seqHeader = derHeader(0x30, contentLength);
        byte[] out = new byte[seqHeader.length + contentLength];
        int p = 0;
        for (byte[] part : new byte[][] {seqHeader, version, RSA_ALGORITHM_ID, octetHeader, rsaPrivateKey}) {
            System.arraycopy(part, 0, out, p, part.length);
            p += part.length;
        }
        return out;
    }

    private static byte[] derHeader(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        int bytes = length > 0xffffff ? 4 : length > 0xffff ? 3 : length > 0xff ? 2 : 1;
        byte[] h = new byte[2 + bytes];
        h[0] = (byte) tag;
        h[1] = (byte) (0x80 | bytes);
        for (int i = 0; i < bytes; i++) {
            h[2 + i] = (byte) (length >>> (8 * (bytes - 1 - i)));
        }
        return h;
    }
}

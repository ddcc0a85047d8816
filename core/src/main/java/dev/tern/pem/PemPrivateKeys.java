package dev.tern.pem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * Reads a private key from PEM text with the JDK alone: the first PKCS#8 {@code PRIVATE KEY} block (RSA, EC or
 * Ed25519, as {@code openssl genpkey} and {@code openssl req -newkey} write them) or PKCS#1 {@code RSA PRIVATE KEY}
 * block (as {@code openssl genrsa -traditional} and older tooling write them), which is re-wrapped as PKCS#8. Other
 * blocks before it (a certificate, EC parameters) are passed over. Messages never quote the key.
 *
 * <p>Threading: stateless, safe everywhere.
 */
public final class PemPrivateKeys {
    private static final String PKCS8 = "PRIVATE KEY";
    private static final String PKCS1_RSA = "RSA PRIVATE KEY";
    private static final String BEGIN = "-----BEGIN ";
    private static final String DASHES = "-----";
    /** Longer than any PEM type: a BEGIN line without closing dashes within it would quote what follows. */
    private static final int MAX_TYPE = 40;

    /** DER of AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } (RFC 8017 A.1). */
    private static final byte[] RSA_ALGORITHM_ID = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    private PemPrivateKeys() {
    }

    /** As {@link #parse} for the text of {@code file}; every message starts with the file's name. */
    public static PrivateKey load(Path file, String use, List<String> keyAlgorithms) throws PemKeyException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            throw new PemKeyException(file + ": cannot read it (" + e + ")", e);
        }
        try {
            return parse(text, use, keyAlgorithms);
        } catch (PemKeyException e) {
            throw new PemKeyException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The private key of the first key block of {@code pemText}, as the first of {@code keyAlgorithms} (JDK
     * {@link KeyFactory} names) that takes it; {@code use} names what the key is for, in messages.
     */
    public static PrivateKey parse(String pemText, String use, List<String> keyAlgorithms) throws PemKeyException {
        String firstType = null;
        int at = pemText.indexOf(BEGIN);
        if (at < 0) {
            throw new PemKeyException("no PEM block found");
        }
        while (at >= 0) {
            int typeEnd = pemText.indexOf(DASHES, at + BEGIN.length());
            int lineEnd = pemText.indexOf('\n', at);
            if (typeEnd < 0 || (lineEnd >= 0 && lineEnd < typeEnd) || typeEnd - at - BEGIN.length() > MAX_TYPE) {
                throw new PemKeyException("malformed PEM header (the BEGIN line must end with '-----')");
            }
            String type = pemText.substring(at + BEGIN.length(), typeEnd);
            // The footer is looked for after the header's closing dashes, which it must not share.
            int bodyStart = typeEnd + DASHES.length();
            String footer = "-----END " + type + DASHES;
            int end = pemText.indexOf(footer, bodyStart);
            if (end < 0) {
                throw new PemKeyException("PEM block '" + type + "' has no END line");
            }
            if (type.endsWith(PKCS8)) {
                return key(type, pemText.substring(bodyStart, end), use, keyAlgorithms);
            }
            if (firstType == null) {
                firstType = type;
            }
            at = pemText.indexOf(BEGIN, end + footer.length());
        }
        throw unsupported(firstType);
    }

    private static PrivateKey key(String type, String base64, String use, List<String> keyAlgorithms)
            throws PemKeyException {
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new PemKeyException("PEM block '" + type + "' is not valid base64", e);
        }
        byte[] pkcs8 = switch (type) {
            case PKCS8 -> der;
            case PKCS1_RSA -> {
                if (!keyAlgorithms.contains("RSA")) {
                    throw new PemKeyException("an RSA PRIVATE KEY cannot be used for " + use);
                }
                yield wrapPkcs1(der);
            }
            default -> throw unsupported(type);
        };
        GeneralSecurityException last = null;
        for (String algorithm : keyAlgorithms) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                last = e; // not this algorithm: try the next
            }
        }
        throw new PemKeyException("not a " + String.join(" or ", keyAlgorithms) + " private key usable for " + use
                + " (" + (last == null ? "no algorithm given" : last.getMessage()) + ")", last);
    }

    private static PemKeyException unsupported(String type) {
        return new PemKeyException("unsupported PEM block '" + type + "' (expected PRIVATE KEY or RSA PRIVATE KEY;"
                + " encrypted keys are not supported; convert one with: openssl pkcs8 -topk8 -nocrypt -in OLD"
                + " -out NEW)");
    }

    /** PKCS#8 PEM text ({@code -----BEGIN PRIVATE KEY-----}, 64 base64 characters a line) of {@code key}. */
    public static String encode(PrivateKey key) {
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

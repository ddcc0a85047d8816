package dev.tern.delivery.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * DKIM signer (RFC 6376, with ed25519-sha256 from RFC 8463): relaxed/relaxed canonicalization, SHA-256, tags
 * v, a, c, d, s, t, optional x, h, bh and b. It produces the {@code DKIM-Signature:} header field(s) to prepend to
 * a message; the message itself is never modified.
 *
 * <p>The input is the message as Tern stores it: unstuffed, CRLF line endings, starting with Tern's own
 * {@code Received:} field, which is not signed unless configured (downstream hops add more Received fields above
 * it, and a signature must survive them).
 *
 * <p>Keys are chosen by domain: the key(s) configured for exactly that domain, else for its closest parent domain
 * (mail from {@code news.example.com} is signed with {@code d=example.com}, which DMARC's relaxed alignment
 * accepts). All keys of the chosen domain sign, so an RSA and an Ed25519 key give two signatures (RFC 8463 6).
 *
 * <p>Use, for a body streamed from the journal: {@code s = signer.stream(envelopeSenderDomain)}, {@code s.update}
 * for each piece, then {@code s.finish()}; when present, send those bytes first, then the message unchanged.
 *
 * <p>Threading: immutable and thread-safe; each message uses its own {@link DkimSigningStream}.
 */
public final class DkimSigner {
    /** Signed when present. Trace fields (Received, Return-Path) are left out on purpose: later hops change them. */
    public static final List<String> DEFAULT_SIGNED_HEADERS = List.of("from", "to", "subject", "date", "message-id",
            "mime-version", "content-type", "cc", "reply-to", "in-reply-to", "references", "list-unsubscribe",
            "list-unsubscribe-post");

    private static final String FIELD_NAME = "DKIM-Signature";
    /** Signed with every key at construction, so an unusable key fails at start, not during delivery. */
    private static final byte[] SELF_TEST = "from:a@b\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, List<DkimKey>> keysByDomain;
    private final List<String> signedHeaders;
    private final byte[][] signedHeaderBytes;
    private final Optional<Duration> expiry;
    private final Clock clock;

    /**
     * @param keys          the keys (may be empty: then nothing is signed)
     * @param signedHeaders header names to sign when present; "from" is added when missing (RFC 6376 5.4)
     * @param expiry        when present, x= is set to t= plus this
     * @param clock         the source of t=
     * @throws IllegalArgumentException for an invalid header name or a key that cannot sign
     */
    public DkimSigner(List<DkimKey> keys, List<String> signedHeaders, Optional<Duration> expiry, Clock clock) {
        Map<String, List<DkimKey>> byDomain = new LinkedHashMap<>();
        for (DkimKey key : keys) {
            List<DkimKey> ofDomain = byDomain.computeIfAbsent(key.domain(), d -> new ArrayList<>());
            if (ofDomain.stream().anyMatch(k -> k.selector().equals(key.selector()))) {
                // One selector names one DNS record, so it can publish only one public key.
                throw new IllegalArgumentException("two DKIM keys for selector " + key.selector() + " of "
                        + key.domain());
            }
            ofDomain.add(key);
        }
        byDomain.replaceAll((d, list) -> List.copyOf(list));
        this.keysByDomain = Map.copyOf(byDomain);
        this.signedHeaders = normalizeHeaderNames(signedHeaders);
        this.signedHeaderBytes = this.signedHeaders.stream()
                .map(h -> h.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        this.expiry = expiry;
        this.clock = clock;
        for (DkimKey key : keys) {
            selfTest(key);
        }
    }

    /** A signer with the default header list, no x= tag and the system clock. */
    public static DkimSigner of(DkimKey... keys) {
        return new DkimSigner(List.of(keys), DEFAULT_SIGNED_HEADERS, Optional.empty(), Clock.systemUTC());
    }

    /** Loads every key of {@code settings}; every unusable key is reported in one exception. */
    public static DkimSigner fromSettings(DkimSettings settings, Clock clock) throws DkimKeyException {
        List<DkimKey> keys = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (DkimKeySettings k : settings.keys()) {
            try {
                keys.add(DkimKey.load(k));
            } catch (DkimKeyException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new DkimKeyException("DKIM configuration: " + String.join("; ", errors));
        }
        try {
            return new DkimSigner(keys, settings.signedHeaders(), settings.expiry(), clock);
        } catch (IllegalArgumentException e) {
            throw new DkimKeyException("DKIM configuration: " + e.getMessage(), e);
        }
    }

    /** Whether any key is configured. */
    public boolean hasKeys() {
        return !keysByDomain.isEmpty();
    }

    /** The signing domains with keys. */
    public Set<String> domains() {
        return keysByDomain.keySet();
    }

    /** The header names signed when present, lower case, in h= order. */
    public List<String> signedHeaders() {
        return signedHeaders;
    }

    /**
     * A stream that signs for the domain of the message's From: address when a key matches it (what DMARC
     * aligns on), else for {@code fallbackDomain} (e.g. the envelope sender's domain; may be null).
     */
    public DkimSigningStream stream(String fallbackDomain) {
        return new DkimSigningStream(this, fallbackDomain, true);
    }

    /** A stream that signs for {@code domain} (or its closest parent with a key) whatever the From: says. */
    public DkimSigningStream streamFor(String domain) {
        return new DkimSigningStream(this, domain, false);
    }

    /** Signs a whole message for {@code senderDomain} (see {@link #streamFor}); empty when no key matches. */
    public Optional<byte[]> signFor(String senderDomain, List<ByteBuffer> message) {
        DkimSigningStream s = streamFor(senderDomain);
        for (ByteBuffer piece : message) {
            s.update(piece);
        }
        return s.finish();
    }

    /** Signs a whole message for the domain of its From: address; empty when no key matches. */
    public Optional<byte[]> sign(ByteBuffer message) {
        DkimSigningStream s = stream(null);
        s.update(message);
        return s.finish();
    }

    /** The keys for {@code domain}: its own, else those of the closest parent domain that has some. */
    List<DkimKey> keysFor(String domain) {
        if (domain == null) {
            return List.of();
        }
        String d = domain.toLowerCase(Locale.ROOT);
        while (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        while (!d.isEmpty()) {
            List<DkimKey> keys = keysByDomain.get(d);
            if (keys != null) {
                return keys;
            }
            int dot = d.indexOf('.');
            d = dot < 0 ? "" : d.substring(dot + 1);
        }
        return List.of();
    }

    /** One DKIM-Signature field per key, each ending in CRLF, concatenated. */
    byte[] signatures(List<DkimKey> keys, HeaderFields fields, byte[] bodyHash) {
        // RFC 6376 5.4.2: each name takes the bottom-most instance; "from" is signed even when absent (5.4).
        boolean[] used = new boolean[fields.count()];
        List<String> names = new ArrayList<>();
        ByteArrayOutputStream signedData = new ByteArrayOutputStream(1024);
        for (int i = 0; i < signedHeaders.size(); i++) {
            int f = fields.lastUnused(signedHeaderBytes[i], used);
            if (f >= 0) {
                used[f] = true;
                RelaxedHeaderCanonicalizer.canonicalize(fields.block(), fields.start(f), fields.end(f), signedData);
                names.add(signedHeaders.get(i));
            } else if (signedHeaders.get(i).equals("from")) {
                names.add("from");
            }
        }
        String bh = Base64.getEncoder().encodeToString(bodyHash);
        long now = clock.instant().getEpochSecond();
        ByteArrayOutputStream out = new ByteArrayOutputStream(keys.size() * 600);
        for (DkimKey key : keys) {
            SignatureHeaderFolder h = unsignedHeader(key, names, bh, now);
            ByteArrayOutputStream data = new ByteArrayOutputStream(signedData.size() + 700);
            data.writeBytes(signedData.toByteArray());
            byte[] self = h.text().getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream selfCanonical = new ByteArrayOutputStream(self.length);
            RelaxedHeaderCanonicalizer.canonicalize(self, 0, self.length, selfCanonical);
            // RFC 6376 3.7: the signature field itself is hashed with b= empty and without its final CRLF.
            data.write(selfCanonical.toByteArray(), 0, selfCanonical.size() - 2);
            h.base64(Base64.getEncoder().encodeToString(sign(key, data.toByteArray())));
            out.writeBytes((h.text() + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private SignatureHeaderFolder unsignedHeader(DkimKey key, List<String> names, String bh, long now) {
        SignatureHeaderFolder h = new SignatureHeaderFolder(FIELD_NAME);
        h.tag("v=1;");
        h.tag("a=" + key.algorithm().tagValue() + ";");
        h.tag("c=relaxed/relaxed;");
        h.tag("d=" + key.domain() + ";");
        h.tag("s=" + key.selector() + ";");
        h.tag("t=" + now + ";");
        if (expiry.isPresent()) {
            h.tag("x=" + (now + expiry.get().toSeconds()) + ";");
        }
        for (int i = 0; i < names.size(); i++) {
            String piece = names.get(i) + (i == names.size() - 1 ? ";" : ":");
            if (i == 0) {
                h.tag("h=" + piece);
            } else {
                h.piece(piece);
            }
        }
        // bh= is never split: RFC 6376 allows FWS inside it, but some verifiers (dkimpy 1.1) compare it verbatim.
        h.tag("bh=" + bh + ";");
        h.tag("b=");
        return h;
    }

    private static byte[] sign(DkimKey key, byte[] data) {
        try {
            Signature signature = Signature.getInstance(key.algorithm().jcaSignature());
            signature.initSign(key.privateKey());
            if (key.algorithm().signsDigest()) {
                MessageDigest sha256 = DkimSigningStream.sha256();
                signature.update(sha256.digest(data));
            } else {
                signature.update(data);
            }
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DKIM signing failed with " + key, e);
        }
    }

    private void selfTest(DkimKey key) {
        try {
            sign(key, SELF_TEST);
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("DKIM key " + key + " cannot sign: " + e.getCause().getMessage(), e);
        }
    }

    private static List<String> normalizeHeaderNames(List<String> names) {
        Set<String> out = new LinkedHashSet<>();
        for (String raw : names) {
            String n = raw.trim().toLowerCase(Locale.ROOT);
            if (n.isEmpty() || !n.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
                throw new IllegalArgumentException("invalid header name to sign: '" + raw + "'");
            }
            if (n.equals("dkim-signature")) {
                throw new IllegalArgumentException("DKIM-Signature cannot be in the list of signed headers");
            }
            out.add(n);
        }
        if (!out.contains("from")) {
            List<String> withFrom = new ArrayList<>();
            withFrom.add("from");
            withFrom.addAll(out);
            return List.copyOf(withFrom);
        }
        return List.copyOf(out);
    }
}

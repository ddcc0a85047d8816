package dev.tern.loadgen;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Message bodies by length, shared by all workers: 76-character lines of seeded random text, one line in sixteen
 * starting with a dot so the transparency procedure (RFC 5321 section 4.5.2) is exercised on every run. Each body
 * is built once with its dot-stuffed form and the SHA-256 the stamp carries; once about 128 MiB are cached, further
 * lengths are built per message.
 *
 * <p>Thread-safe; the bodies it returns are immutable by convention.
 */
final class BodyCache {
    /**
     * A body: {@code raw} as the recipient should see it; {@code dataSection} as DATA sends it, dot-stuffed and
     * followed by the end-of-data dot line, so that body and terminator go out in one write (RFC 5321 section
     * 4.1.1.4: the CRLF before the dot is the body's last).
     */
    record Body(byte[] raw, byte[] dataSection, byte[] sha256Hex) {
    }

    private static final long MAX_CACHED_BYTES = 128L << 20;
    private static final int LINE = 76;
    private static final byte[] END_OF_DATA = {'.', '\r', '\n'};
    private static final String ALPHABET =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_!?'\"()[]<>/+=*&%$#@~";

    private final byte[] text = new byte[64 * 1024 + 1];
    private final ConcurrentHashMap<Integer, Body> cache = new ConcurrentHashMap<>();
    private final AtomicLong cachedBytes = new AtomicLong();

    BodyCache(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        }
    }

    /** A body of exactly {@code length} bytes (at least 2 unless 0), ending with CRLF. */
    Body body(int length) {
        Body cached = cache.get(length);
        if (cached != null) {
            return cached;
        }
        long estimate = 2L * length + length / LINE + 8; // the raw body and its dot-stuffed DATA section
        if (cachedBytes.get() + estimate > MAX_CACHED_BYTES) {
            return build(length);
        }
        // One build per length: workers that ask for a new length together wait for that build instead of each
        // making its own copy (ten 10 MiB builds at once used to land in a large run's first second).
        return cache.computeIfAbsent(length, l -> {
            Body built = build(l);
            cachedBytes.addAndGet(built.raw().length + (long) built.dataSection().length);
            return built;
        });
    }

    private Body build(int requested) {
        int length = requested == 1 ? 2 : requested;
        byte[] raw = new byte[length];
        int pos = 0;
        int lineNo = 0;
        int dots = 0;
        while (pos < length) {
            int remaining = length - pos;
            // Never leave a single byte: every line, the last included, ends with CRLF.
            int content = remaining <= LINE + 2 ? remaining - 2 : remaining == LINE + 3 ? LINE - 1 : LINE;
            int from = (lineNo * 131) % (text.length - LINE);
            System.arraycopy(text, from, raw, pos, content);
            if (content > 0 && lineNo % 16 == 7) {
                raw[pos] = '.';
            }
            if (content > 0 && raw[pos] == '.') {
                dots++;
            }
            pos += content;
            raw[pos++] = '\r';
            raw[pos++] = '\n';
            lineNo++;
        }
        byte[] stuffed = new byte[length + dots + END_OF_DATA.length];
        int s = 0;
        for (int i = 0; i < length; i++) {
            if (raw[i] == '.' && (i == 0 || raw[i - 1] == '\n')) {
                stuffed[s++] = '.';
            }
            stuffed[s++] = raw[i];
        }
        System.arraycopy(END_OF_DATA, 0, stuffed, s, END_OF_DATA.length);
        return new Body(raw, stuffed, HexFormat.of().formatHex(sha256(raw)).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}

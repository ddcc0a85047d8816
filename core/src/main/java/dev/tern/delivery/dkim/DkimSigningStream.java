package dev.tern.delivery.dkim;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Signs one message that arrives in pieces (e.g. from {@code Journal.readBody}): feed every piece to
 * {@link #update(ByteBuffer)}, then {@link #finish()} gives the DKIM-Signature header field(s) to prepend.
 *
 * <p>The header block (up to the first empty line) is copied to the heap, bounded by
 * {@link #MAX_HEADER_BYTES}; the body is canonicalized and hashed as it streams, never copied whole. A bare CR or
 * LF counts as CRLF, since Tern's SMTP client sends it so.
 *
 * <p>Threading: not thread-safe; one instance per message, used by one thread. Pieces are only read: their position
 * and limit are unchanged, and they need stay valid only during the call.
 */
public final class DkimSigningStream {
    /** A header block larger than this is not signed (it is far beyond what real mail carries). */
    public static final int MAX_HEADER_BYTES = 1 << 20;
    private static final byte[] FROM = {'f', 'r', 'o', 'm'};

    private final DkimSigner signer;
    private final String domain;
    private final boolean preferFromDomain;

    private byte[] header = new byte[2048];
    private int headerLength;
    private int lineLength;
    private byte previous;
    private boolean afterCr;
    private boolean inBody;
    private boolean headerTooLarge;
    private boolean finished;

    private List<DkimKey> keys = List.of();
    private MessageDigest bodyHash;
    private RelaxedBodyCanonicalizer body;
    private HeaderFields fields;

    DkimSigningStream(DkimSigner signer, String domain, boolean preferFromDomain) {
        this.signer = signer;
        this.domain = domain;
        this.preferFromDomain = preferFromDomain;
    }

    /** Consumes the bytes from position to limit of {@code piece} (not moving its position). */
    public void update(ByteBuffer piece) {
        if (finished) {
            throw new IllegalStateException("DKIM signing already finished");
        }
        int pos = piece.position();
        int limit = piece.limit();
        while (!inBody && pos < limit) {
            headerInput(piece.get(pos++));
        }
        if (inBody && body != null && pos < limit) {
            body.update(piece, pos, limit);
        }
    }

    /** Consumes {@code bytes[offset, offset + length)}. */
    public void update(byte[] bytes, int offset, int length) {
        update(ByteBuffer.wrap(bytes, offset, length));
    }

    /**
     * Completes the signature(s). Empty when no configured key matches the domain, or the header block is larger
     * than {@link #MAX_HEADER_BYTES}; else one {@code DKIM-Signature: ...CRLF} per key of the domain, concatenated.
     */
    public Optional<byte[]> finish() {
        if (finished) {
            throw new IllegalStateException("DKIM signing already finished");
        }
        finished = true;
        if (!inBody) {
            endOfHeaders(); // no empty line: the whole message is header, the body is empty
        }
        if (headerTooLarge || keys.isEmpty()) {
            return Optional.empty();
        }
        body.finish();
        return Optional.of(signer.signatures(keys, fields, bodyHash.digest()));
    }

    /** The signing domain chosen (after the header block was read), if any key matched. */
    public Optional<String> signingDomain() {
        return keys.isEmpty() ? Optional.empty() : Optional.of(keys.getFirst().domain());
    }

    /** Feeds one input byte to the header block, each line ending (CRLF, bare CR, bare LF) as CRLF. */
    private void headerInput(byte c) {
        boolean lfOfCrlf = afterCr && c == '\n';
        afterCr = c == '\r';
        if (lfOfCrlf) {
            return;
        }
        if (c == '\r' || c == '\n') {
            headerByte((byte) '\r');
            headerByte((byte) '\n');
        } else {
            headerByte(c);
        }
    }

    private void headerByte(byte c) {
        if (!headerTooLarge) {
            if (headerLength == header.length) {
                if (headerLength >= MAX_HEADER_BYTES) {
                    headerTooLarge = true;
                } else {
                    header = Arrays.copyOf(header, Math.min(MAX_HEADER_BYTES, headerLength * 2));
                }
            }
            if (!headerTooLarge) {
                header[headerLength++] = c;
            }
        }
        if (c == '\n' && previous == '\r') {
            if (lineLength == 1) {
                // The empty line: it separates header and body and belongs to neither (RFC 6376 5.4, 3.7).
                headerLength = Math.max(0, headerLength - 2);
                inBody = true;
                endOfHeaders();
            }
            lineLength = 0;
        } else {
            lineLength++;
        }
        previous = c;
    }

    private void endOfHeaders() {
        inBody = true;
        if (headerTooLarge) {
            return;
        }
        fields = HeaderFields.parse(header, headerLength);
        keys = signer.keysFor(chooseDomain());
        if (!keys.isEmpty()) {
            bodyHash = sha256();
            body = new RelaxedBodyCanonicalizer(bodyHash::update);
            if (afterCr) {
                body.startAfterCr();
            }
        }
    }

    private String chooseDomain() {
        if (preferFromDomain) {
            int f = fields.lastUnused(FROM, new boolean[fields.count()]);
            if (f >= 0) {
                String fromDomain = FromDomain.extract(header, fields.valueStart(f), fields.end(f));
                if (fromDomain != null && !signer.keysFor(fromDomain).isEmpty()) {
                    return fromDomain;
                }
            }
        }
        return domain;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always provides SHA-256", e);
        }
    }
}

package dev.tern.delivery.dkim;

import java.io.ByteArrayOutputStream;

/**
 * The "relaxed" header canonicalization of RFC 6376 3.4.2, for one header field held as bytes (name, colon, value
 * with any folding, and usually its final CRLF). The value's bytes are kept as they are (8-bit UTF-8 included); only
 * ASCII letters of the name are lower-cased.
 *
 * <p>Threading: stateless, safe everywhere.
 */
final class RelaxedHeaderCanonicalizer {
    private RelaxedHeaderCanonicalizer() {
    }

    /**
     * Appends {@code name:value CRLF} in canonical form to {@code out}: name lower-cased, whitespace around the colon
     * removed, CRLFs of the folding removed, whitespace runs reduced to one SP, trailing whitespace removed.
     *
     * @return false (and nothing appended) when the field has no colon
     */
    static boolean canonicalize(byte[] field, int start, int end, ByteArrayOutputStream out) {
        int colon = indexOf(field, start, end, (byte) ':');
        if (colon < 0) {
            return false;
        }
        int nameEnd = colon;
        while (nameEnd > start && isWsp(field[nameEnd - 1])) {
            nameEnd--;
        }
        for (int i = start; i < nameEnd; i++) {
            byte c = field[i];
            out.write(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        out.write(':');
        boolean pendingSpace = false;
        boolean wroteValue = false;
        for (int i = colon + 1; i < end; i++) {
            byte c = field[i];
            if (c == '\r' && i + 1 < end && field[i + 1] == '\n') {
                i++; // unfold: the CRLF goes, the whitespace after it is handled as any other
            } else if (isWsp(c)) {
                pendingSpace = true;
            } else {
                if (pendingSpace && wroteValue) {
                    out.write(' ');
                }
                pendingSpace = false;
                out.write(c);
                wroteValue = true;
            }
        }
        out.write('\r');
        out.write('\n');
        return true;
    }

    static boolean isWsp(byte c) {
        return c == ' ' || c == '\t';
    }

    static int indexOf(byte[] bytes, int start, int end, byte wanted) {
        for (int i = start; i < end; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}

package dev.tern.delivery.dkim;

import java.util.Arrays;

/**
 * The header fields of one message header block: offsets of each field (continuation lines included) into the
 * block's bytes. A field starts at a line that does not begin with SP or HTAB (RFC 5322 2.2.3).
 *
 * <p>Threading: not thread-safe; built and used by one {@link DkimSigningStream}.
 */
final class HeaderFields {
    private final byte[] block;
    private int count;
    private int[] starts = new int[32];
    private int[] ends = new int[32];
    /** End of the field name (whitespace before the colon excluded), or -1 when the field has no colon. */
    private int[] nameEnds = new int[32];

    private HeaderFields(byte[] block) {
        this.block = block;
    }

    /** Splits {@code block[0, length)} into fields. Lines end at CRLF; the blank line must not be included. */
    static HeaderFields parse(byte[] block, int length) {
        HeaderFields fields = new HeaderFields(block);
        int lineStart = 0;
        while (lineStart < length) {
            int lineEnd = lineEnd(block, lineStart, length);
            boolean continuation = RelaxedHeaderCanonicalizer.isWsp(block[lineStart]) && fields.count > 0;
            if (continuation) {
                fields.ends[fields.count - 1] = lineEnd;
            } else {
                fields.add(lineStart, lineEnd);
            }
            lineStart = lineEnd;
        }
        return fields;
    }

    private static int lineEnd(byte[] b, int from, int length) {
        for (int i = from; i + 1 < length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i + 2;
            }
        }
        return length;
    }

    private void add(int start, int end) {
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            ends = Arrays.copyOf(ends, count * 2);
            nameEnds = Arrays.copyOf(nameEnds, count * 2);
        }
        int colon = RelaxedHeaderCanonicalizer.indexOf(block, start, end, (byte) ':');
        int nameEnd = colon;
        while (nameEnd > start && RelaxedHeaderCanonicalizer.isWsp(block[nameEnd - 1])) {
            nameEnd--;
        }
        starts[count] = start;
        ends[count] = end;
        nameEnds[count] = colon < 0 ? -1 : nameEnd;
        count++;
    }

    byte[] block() {
        return block;
    }

    int count() {
        return count;
    }

    int start(int field) {
        return starts[field];
    }

    int end(int field) {
        return ends[field];
    }

    /**
     * The bottom-most field named {@code lowerName} (ASCII, lower case) not yet marked in {@code used}, or -1.
     * RFC 6376 5.4.2: each name in h= takes the last unused instance, working upwards.
     */
    int lastUnused(byte[] lowerName, boolean[] used) {
        for (int f = count - 1; f >= 0; f--) {
            if (!used[f] && nameIs(f, lowerName)) {
                return f;
            }
        }
        return -1;
    }

    boolean nameIs(int field, byte[] lowerName) {
        int start = starts[field];
        int nameEnd = nameEnds[field];
        if (nameEnd < 0 || nameEnd - start != lowerName.length) {
            return false;
        }
        for (int i = 0; i < lowerName.length; i++) {
            byte c = block[start + i];
            byte lower = c >= 'A' && c <= 'Z' ? (byte) (c + ('a' - 'A')) : c;
            if (lower != lowerName[i]) {
                return false;
            }
        }
        return true;
    }

    /** The value of a field: the bytes after its colon, folding included. */
    int valueStart(int field) {
        return RelaxedHeaderCanonicalizer.indexOf(block, starts[field], ends[field], (byte) ':') + 1;
    }
}

package dev.tern.sink;

import dev.tern.sink.ReceivedMessage.StampCheck;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Looks at a message's content as it streams in: finds the header/body blank line, reads the {@link TernStamp}
 * from the header, hashes the body when a stamp is present, counts bytes, and keeps a copy when asked.
 *
 * <p>Not thread-safe: one per connection, {@link #begin(boolean, long)} before each message; its buffers are reused.
 */
final class MessageInspector implements DataUnstuffer.ContentConsumer {
    private static final int MAX_HEADER_CAPTURE = 64 * 1024;
    private static final byte[] MESSAGE_ID_NAME = "message-id:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STAMP_NAME =
            (TernStamp.HEADER + ":").toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);

    private final MessageDigest sha256;
    private byte[] header = new byte[4096];
    private int headerLength;
    private byte[] copy = new byte[0];
    private int copyLength;
    private boolean keepCopy;
    private long limit;
    private long size;
    // How much of CRLF CRLF has been seen; starts at 2 because the content starts a line, so a leading CRLF
    // means an empty header section.
    private int blankLineMatch;
    private boolean inBody;
    // The stamp, parsed in place: its time (-1 when absent or malformed) and digest.
    private long stampMicros;
    private boolean stampMalformed;
    private final byte[] stampDigest = new byte[32];
    private final byte[] bodyDigest = new byte[32];
    // The unfolded value of the last field looked up.
    private byte[] fieldValue = new byte[256];

    MessageInspector() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /**
     * @param keep  keep a copy of the content for {@link #content()}
     * @param limit the most bytes a message may have (0: no limit); beyond it bytes are counted, not kept
     */
    void begin(boolean keep, long limit) {
        keepCopy = keep;
        this.limit = limit;
        size = 0;
        headerLength = 0;
        copyLength = 0;
        blankLineMatch = 2;
        inBody = false;
        stampMicros = -1;
        stampMalformed = false;
        sha256.reset();
    }

    @Override
    public void content(byte[] bytes, int offset, int length) {
        size += length;
        if (keepCopy && !oversized()) {
            append(bytes, offset, length);
        }
        int bodyFrom = offset;
        if (!inBody) {
            int end = offset + length;
            int i = offset;
            while (i < end && !inBody) {
                byte b = bytes[i++];
                if (b == '\r') {
                    blankLineMatch = blankLineMatch == 2 ? 3 : 1;
                } else if (b == '\n' && (blankLineMatch == 1 || blankLineMatch == 3)) {
                    blankLineMatch++;
                    inBody = blankLineMatch == 4;
                } else {
                    blankLineMatch = 0;
                }
            }
            captureHeader(bytes, offset, i - offset);
            if (inBody) {
                findStamp();
            }
            bodyFrom = i;
        }
        if (inBody && stampMicros >= 0) {
            sha256.update(bytes, bodyFrom, offset + length - bodyFrom);
        }
    }

    /** Bytes of content received for the current message. */
    long size() {
        return size;
    }

    boolean oversized() {
        return limit > 0 && size > limit;
    }

    /** Finishes the message and checks its stamp. A message without a blank line has an empty body. */
    StampCheck check() {
        if (!inBody) {
            findStamp();
        }
        if (stampMalformed) {
            return StampCheck.MALFORMED;
        }
        if (stampMicros < 0) {
            return StampCheck.ABSENT;
        }
        try {
            sha256.digest(bodyDigest, 0, bodyDigest.length);
        } catch (DigestException e) {
            throw new IllegalStateException("a SHA-256 digest is 32 bytes", e);
        }
        return MessageDigest.isEqual(bodyDigest, stampDigest) ? StampCheck.VALID : StampCheck.MISMATCH;
    }

    /** The stamp's time, or -1 when there was no valid stamp. */
    long stampMicros() {
        return stampMicros;
    }

    /** A copy of the content kept since {@link #begin(boolean, long)}. */
    byte[] content() {
        return Arrays.copyOf(copy, copyLength);
    }

    private void append(byte[] bytes, int offset, int length) {
        if (copyLength + length > copy.length) {
            copy = Arrays.copyOf(copy, Math.max(copy.length * 2, copyLength + length));
        }
        System.arraycopy(bytes, offset, copy, copyLength, length);
        copyLength += length;
    }

    private void captureHeader(byte[] bytes, int offset, int length) {
        int n = Math.min(length, MAX_HEADER_CAPTURE - headerLength);
        if (n <= 0) {
            return;
        }
        if (headerLength + n > header.length) {
            header = Arrays.copyOf(header, Math.min(MAX_HEADER_CAPTURE, Math.max(header.length * 2, headerLength + n)));
        }
        System.arraycopy(bytes, offset, header, headerLength, n);
        headerLength += n;
    }

    /** Reads the stamp from the first X-Tern-Stamp field, if any. */
    private void findStamp() {
        int length = field(STAMP_NAME);
        if (length >= 0) {
            stampMicros = TernStamp.parseValue(fieldValue, 0, length, stampDigest);
            stampMalformed = stampMicros < 0;
        }
    }

    /** The Message-ID field's value, trimmed, or {@code null} when the header has none. */
    String messageId() {
        int length = field(MESSAGE_ID_NAME);
        return length < 0 ? null : new String(fieldValue, 0, length, StandardCharsets.US_ASCII).trim();
    }

    /**
     * Unfolds the value of the first field named {@code lowerName} (with its colon) in the captured header into
     * {@link #fieldValue} and returns its length, or -1 when there is none. The capture stops at the blank line, so
     * body lines are never taken for fields.
     */
    private int field(byte[] lowerName) {
        for (int lineStart = 0; lineStart < headerLength; ) {
            int lineEnd = indexOf(header, lineStart, headerLength, (byte) '\n');
            int end = lineEnd < 0 ? headerLength : lineEnd;
            if (startsWithIgnoreCase(header, lineStart, end, lowerName)) {
                int valueEnd = end;
                // RFC 5322 section 2.2.3: a field may continue on lines that start with white space.
                while (valueEnd + 1 < headerLength && (header[valueEnd + 1] == ' ' || header[valueEnd + 1] == '\t')) {
                    int next = indexOf(header, valueEnd + 1, headerLength, (byte) '\n');
                    valueEnd = next < 0 ? headerLength : next;
                }
                return unfold(lineStart + lowerName.length, valueEnd);
            }
            lineStart = end + 1;
        }
        return -1;
    }

    /** Copies {@code header[from, to)} into {@link #fieldValue} without its CRLFs, a lone CR or LF as a space. */
    private int unfold(int from, int to) {
        if (fieldValue.length < to - from) {
            fieldValue = new byte[to - from];
        }
        int n = 0;
        for (int i = from; i < to; i++) {
            byte b = header[i];
            if (b == '\r' && i + 1 < to && header[i + 1] == '\n') {
                i++;
            } else {
                fieldValue[n++] = b == '\r' || b == '\n' ? (byte) ' ' : b;
            }
        }
        return n;
    }

    private static int indexOf(byte[] bytes, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static boolean startsWithIgnoreCase(byte[] bytes, int from, int to, byte[] lowerPrefix) {
        if (to - from < lowerPrefix.length) {
            return false;
        }
        for (int i = 0; i < lowerPrefix.length; i++) {
            byte b = bytes[from + i];
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (b != lowerPrefix[i]) {
                return false;
            }
        }
        return true;
    }
}

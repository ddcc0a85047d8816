package dev.tern.delivery.dkim;

/**
 * Writes the DKIM-Signature header folded so that no line is longer than {@link #MAX_LINE} characters (RFC 5322
 * 2.1.1 asks for at most 78). Folds go only where RFC 6376 3.5 allows FWS: before a tag, between the names of h=,
 * and anywhere inside the base64 of bh= and b=.
 *
 * <p>Threading: not thread-safe; one per signature.
 */
final class SignatureHeaderFolder {
    static final int MAX_LINE = 76;
    private static final String FOLD = "\r\n ";

    private final StringBuilder text = new StringBuilder(640);
    private int column;

    SignatureHeaderFolder(String fieldName) {
        text.append(fieldName).append(':');
        column = fieldName.length() + 1;
    }

    /** Starts a tag ({@code "v=1;"}) after a space, or on a new line when it would not fit. Never split. */
    void tag(String whole) {
        if (column + 1 + whole.length() > MAX_LINE) {
            fold();
        } else {
            text.append(' ');
            column++;
        }
        append(whole);
    }

    /** Continues the current tag with a piece that may be preceded by FWS (a header name of h=). */
    void piece(String part) {
        if (column + part.length() > MAX_LINE) {
            fold();
        }
        append(part);
    }

    /** Continues the current tag with base64 text, split across lines as needed. */
    void base64(String value) {
        int i = 0;
        while (i < value.length()) {
            if (column >= MAX_LINE) {
                fold();
            }
            int n = Math.min(MAX_LINE - column, value.length() - i);
            append(value.substring(i, i + n));
            i += n;
        }
    }

    private void fold() {
        text.append(FOLD);
        column = 1;
    }

    private void append(String s) {
        text.append(s);
        column += s.length();
    }

    /** The header so far, without a final CRLF. */
    String text() {
        return text.toString();
    }
}

package dev.tern.delivery.dkim;

import java.util.Locale;

/**
 * Finds the domain of the author address in a From: value (RFC 5322 3.6.2), enough to choose a signing key:
 * comments and quoted strings are skipped, an angle-bracketed address wins, and the domain is what follows its last
 * '@'. Whitespace is ignored. For a From listing several mailboxes the last one is used.
 *
 * <p>Threading: stateless, safe everywhere.
 */
final class FromDomain {
    private FromDomain() {
    }

    /** The lower-cased domain, or null when none is found. */
    static String extract(byte[] bytes, int from, int to) {
        StringBuilder plain = new StringBuilder(to - from);
        int commentDepth = 0;
        boolean quoted = false;
        for (int i = from; i < to; i++) {
            char c = (char) (bytes[i] & 0xff);
            if (c == '\\' && (quoted || commentDepth > 0)) {
                i++;
            } else if (quoted) {
                quoted = c != '"';
            } else if (c == '(') {
                commentDepth++;
            } else if (commentDepth > 0) {
                if (c == ')') {
                    commentDepth--;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
                plain.append(c); // whitespace (FWS) may surround '@' and the brackets in obsolete syntax
            }
        }
        String text = lastMailbox(plain.toString());
        int open = text.lastIndexOf('<');
        if (open >= 0) {
            int close = text.indexOf('>', open);
            text = text.substring(open + 1, close < 0 ? text.length() : close);
        }
        int at = text.lastIndexOf('@');
        if (at < 0) {
            return null;
        }
        int end = at + 1;
        while (end < text.length() && isDomainChar(text.charAt(end))) {
            end++;
        }
        String domain = text.substring(at + 1, end);
        while (domain.endsWith(".")) {
            domain = domain.substring(0, domain.length() - 1);
        }
        return domain.isEmpty() ? null : domain.toLowerCase(Locale.ROOT);
    }

    /**
     * The last mailbox of a list (comments, quoted strings and whitespace already gone) that holds an '@': mailboxes
     * are separated by commas outside angle brackets, where a source route has commas of its own.
     */
    private static String lastMailbox(String list) {
        int end = list.length();
        int depth = 0;
        for (int i = list.length() - 1; i >= 0; i--) {
            char c = list.charAt(i);
            if (c == '>') {
                depth++;
            } else if (c == '<' && depth > 0) {
                depth--;
            } else if (c == ',' && depth == 0) {
                if (list.lastIndexOf('@', end - 1) > i) {
                    return list.substring(i + 1, end);
                }
                end = i; // nothing addressed after this comma (a trailing or empty entry): look further back
            }
        }
        return list.substring(0, end);
    }

    private static boolean isDomainChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
                || c == '_';
    }
}

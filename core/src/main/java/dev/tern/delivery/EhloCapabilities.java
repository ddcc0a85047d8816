package dev.tern.delivery;

import java.util.Locale;

/**
 * What a next hop advertised in its EHLO reply (RFC 5321 4.1.1.1), as far as the outbound client uses it.
 *
 * @param esmtp       whether EHLO succeeded (false: HELO fallback, no extensions)
 * @param pipelining  RFC 2920
 * @param maxSize     RFC 1870 SIZE limit in bytes; 0 when unlimited or not advertised
 * @param eightBitMime RFC 6152
 * @param chunking    RFC 3030 BDAT
 * @param dsn         RFC 3461
 * @param smtputf8    RFC 6531
 * @param starttls    RFC 3207
 */
record EhloCapabilities(boolean esmtp, boolean pipelining, long maxSize, boolean eightBitMime, boolean chunking,
                        boolean dsn, boolean smtputf8, boolean starttls) {

    static final EhloCapabilities NONE = new EhloCapabilities(false, false, 0, false, false, false, false, false);

    /** Without STARTTLS. */
    EhloCapabilities(boolean esmtp, boolean pipelining, long maxSize, boolean eightBitMime, boolean chunking,
                     boolean dsn, boolean smtputf8) {
        this(esmtp, pipelining, maxSize, eightBitMime, chunking, dsn, smtputf8, false);
    }

    /** Parses the lines of a positive EHLO reply; the first line is the greeting and is skipped. */
    static EhloCapabilities parse(SmtpReply reply) {
        boolean pipelining = false;
        boolean eightBit = false;
        boolean chunking = false;
        boolean dsn = false;
        boolean utf8 = false;
        boolean starttls = false;
        long size = 0;
        for (int i = 1; i < reply.lines().size(); i++) {
            String[] words = reply.lines().get(i).trim().split("\\s+");
            switch (words[0].toUpperCase(Locale.ROOT)) {
                case "PIPELINING" -> pipelining = true;
                case "8BITMIME" -> eightBit = true;
                case "CHUNKING" -> chunking = true;
                case "DSN" -> dsn = true;
                case "SMTPUTF8" -> utf8 = true;
                case "STARTTLS" -> starttls = true;
                case "SIZE" -> size = words.length > 1 ? parseSize(words[1]) : 0;
                default -> {
                }
            }
        }
        return new EhloCapabilities(true, pipelining, size, eightBit, chunking, dsn, utf8, starttls);
    }

    private static long parseSize(String s) {
        try {
            return Math.max(0, Long.parseLong(s));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}

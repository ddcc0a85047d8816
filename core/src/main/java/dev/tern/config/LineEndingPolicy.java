package dev.tern.config;

/** What to do with a bare LF or bare CR in commands or message content (the SMTP smuggling vector). */
public enum LineEndingPolicy {
    /** Answer 5xx; in DATA the rest is read up to the real CRLF.CRLF and the message is refused. The default. */
    REJECT,
    /** Store a bare LF or CR as CRLF. Still only CRLF.CRLF ends DATA, so nothing can be smuggled. */
    NORMALIZE
}

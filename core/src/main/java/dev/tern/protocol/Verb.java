package dev.tern.protocol;

/**
 * SMTP command verbs (RFC 5321 4.1, RFC 3030 BDAT, RFC 3207 STARTTLS, plus the obsolete RFC 821 verbs a server must
 * still recognise so that it can answer 502 rather than 500). {@link #UNKNOWN} is anything else.
 *
 * <p>Threading: immutable.
 */
public enum Verb {
    HELO, EHLO, MAIL, RCPT, DATA, BDAT, RSET, NOOP, QUIT, VRFY, EXPN, HELP, STARTTLS, TURN, SEND, SOML, SAML, UNKNOWN
}

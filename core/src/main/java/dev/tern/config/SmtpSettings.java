package dev.tern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The SMTP server's protocol limits and timeouts (RFC 5321 4.5.3). Owned by the session layer.
 *
 * @param hostname               the name in the greeting, EHLO reply and Received headers
 * @param maxCommandLine         octets in a command line, CRLF included (RFC 5321 4.5.3.1.4: 512); MAIL and RCPT get
 *                               the extra room RFC 1870/3461/6531 grant their parameters
 * @param maxMessageSize         octets of content, advertised in EHLO SIZE (RFC 1870)
 * @param maxDataLine            octets in a line of content, CRLF included (RFC 5321 4.5.3.1.6: 1000)
 * @param maxRecipients          per message (RFC 5321 4.5.3.1.8 requires accepting at least 100)
 * @param maxConnections         concurrent sessions in total
 * @param maxConnectionsPerClient concurrent sessions per client IP
 * @param limitMynetworks        whether the per-client limit applies to clients in mynetworks too
 * @param maxErrors              protocol errors in a session before 421 and close
 * @param pregreetDelay          how long a client outside mynetworks waits for the 220; input before it is refused
 * @param commandTimeout         waiting for the next command (RFC 5321 4.5.3.2.7: 5 minutes)
 * @param dataTimeout            waiting for the next block of DATA content (RFC 5321 4.5.3.2.5: 3 minutes)
 * @param bareLineEndings        bare LF / bare CR handling
 * @param bodyBufferMemory       direct memory for message content being received (64 KiB chunks, all sessions
 *                               together); when it is used up, messages get 452 4.3.1 instead of exhausting memory
 * @param postmaster             the mailbox {@code RCPT TO:<Postmaster>} is relayed to, accepted from any client
 *                               (RFC 5321 4.5.1); when empty, only mynetworks may use it and it is passed on as is
 * @param tlsCertificate         PEM certificate chain for STARTTLS (RFC 3207); STARTTLS is offered when it and
 *                               {@code tlsKey} are set
 * @param tlsKey                 the certificate's PEM (PKCS#8) private key
 * @param tlsMaxSessions         sessions running TLS at once (each holds about 64 KiB of heap); 0: as many as a
 *                               quarter of the heap allows. STARTTLS beyond gets 454 4.7.0
 * @param tlsRequired            every client must STARTTLS before MAIL (530 5.7.0 until then; RFC 3207 4), as
 *                               Postfix's {@code smtpd_tls_security_level = encrypt}
 */
public record SmtpSettings(String hostname, int maxCommandLine, long maxMessageSize, int maxDataLine,
                           int maxRecipients, int maxConnections, int maxConnectionsPerClient,
                           boolean limitMynetworks, int maxErrors, Duration pregreetDelay,
                           Duration commandTimeout, Duration dataTimeout, LineEndingPolicy bareLineEndings,
                           long bodyBufferMemory, Optional<String> postmaster, Optional<Path> tlsCertificate,
                           Optional<Path> tlsKey, int tlsMaxSessions, boolean tlsRequired) {

    /** 256 MiB: five maximum-size messages at once, or thousands of typical ones. */
    public static final long DEFAULT_BODY_BUFFER_MEMORY = 256L << 20;

    /** All settings but {@code bodyBufferMemory}, which takes its default. */
    public SmtpSettings(String hostname, int maxCommandLine, long maxMessageSize, int maxDataLine,
                        int maxRecipients, int maxConnections, int maxConnectionsPerClient,
                        boolean limitMynetworks, int maxErrors, Duration pregreetDelay,
                        Duration commandTimeout, Duration dataTimeout, LineEndingPolicy bareLineEndings) {
        this(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, DEFAULT_BODY_BUFFER_MEMORY);
    }

    /** All settings but {@code postmaster} and TLS, which are unset. */
    public SmtpSettings(String hostname, int maxCommandLine, long maxMessageSize, int maxDataLine,
                        int maxRecipients, int maxConnections, int maxConnectionsPerClient,
                        boolean limitMynetworks, int maxErrors, Duration pregreetDelay,
                        Duration commandTimeout, Duration dataTimeout, LineEndingPolicy bareLineEndings,
                        long bodyBufferMemory) {
        this(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, bodyBufferMemory, Optional.empty(), Optional.empty(), Optional.empty(), 0, false);
    }

    /** These settings with {@code RCPT TO:<Postmaster>} relayed to {@code mailbox}. */
    public SmtpSettings withPostmaster(String mailbox) {
        return new SmtpSettings(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, bodyBufferMemory, Optional.of(mailbox), tlsCertificate, tlsKey, tlsMaxSessions,
                tlsRequired);
    }

    /** These settings with STARTTLS offered, with {@code certificate} and its {@code key}. */
    public SmtpSettings withTls(Path certificate, Path key) {
        return new SmtpSettings(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, bodyBufferMemory, postmaster, Optional.of(certificate), Optional.of(key),
                tlsMaxSessions, tlsRequired);
    }

    /** These settings with STARTTLS required before MAIL ({@code required}) or not. */
    public SmtpSettings withTlsRequired(boolean required) {
        return new SmtpSettings(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, bodyBufferMemory, postmaster, tlsCertificate, tlsKey, tlsMaxSessions, required);
    }

    /** These settings with at most {@code sessions} running TLS at once (0: a quarter of the heap's worth). */
    public SmtpSettings withTlsMaxSessions(int sessions) {
        return new SmtpSettings(hostname, maxCommandLine, maxMessageSize, maxDataLine, maxRecipients, maxConnections,
                maxConnectionsPerClient, limitMynetworks, maxErrors, pregreetDelay, commandTimeout, dataTimeout,
                bareLineEndings, bodyBufferMemory, postmaster, tlsCertificate, tlsKey, sessions, tlsRequired);
    }

    public static SmtpSettings defaults() {
        return new SmtpSettings(defaultHostname(), 512, 50L << 20, 1000, 100, 20_000, 50, false, 10,
                Duration.ofMillis(500), Duration.ofMinutes(5), Duration.ofMinutes(3), LineEndingPolicy.REJECT);
    }

    private static String defaultHostname() {
        try {
            String h = java.net.InetAddress.getLocalHost().getCanonicalHostName();
            return h == null || h.isBlank() ? "localhost" : h;
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}

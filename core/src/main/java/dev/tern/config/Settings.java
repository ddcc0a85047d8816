package dev.tern.config;

import java.util.List;

/**
 * Every operator setting Tern has, in the order {@code --help} shows them. Adding a component to a settings record
 * and a line here is all it takes to get a config-file key and a flag; the type of the component picks the parser.
 */
public final class Settings {
    private Settings() {
    }

    public static final List<Setting> ALL = List.of(
            Setting.of("listen", "listen", "SMTP listen address, HOST:PORT (port 0: any free port)"),
            Setting.of("data-dir", "dataDir", "directory of the journal (the mail queue)"),
            Setting.of("mynetworks", "mynetworks", "client networks allowed to relay, CIDR list"),
            Setting.of("hostname", "smtp.hostname", "name in the greeting, EHLO and Received headers"),
            Setting.of("max-command-line", "smtp.maxCommandLine", "octets in a command line, CRLF included"),
            Setting.of("max-message-size", "smtp.maxMessageSize", "octets of content per message (EHLO SIZE)"),
            Setting.of("max-data-line", "smtp.maxDataLine", "octets in a line of message content, CRLF included"),
            Setting.of("max-recipients", "smtp.maxRecipients", "recipients per message; extras get 452 4.5.3"),
            Setting.of("max-connections", "smtp.maxConnections", "concurrent SMTP sessions in total"),
            Setting.of("max-connections-per-client", "smtp.maxConnectionsPerClient",
                    "concurrent SMTP sessions per client IP"),
            Setting.of("limit-mynetworks", "smtp.limitMynetworks",
                    "apply the per-client connection limit to mynetworks clients too"),
            Setting.of("max-errors", "smtp.maxErrors", "protocol errors per session before 421 and close"),
            Setting.of("pregreet-delay", "smtp.pregreetDelay",
                    "clients outside mynetworks wait this long for the 220; talking earlier is refused"),
            Setting.of("command-timeout", "smtp.commandTimeout", "idle time allowed between commands"),
            Setting.of("data-timeout", "smtp.dataTimeout", "idle time allowed inside DATA or BDAT content"),
            Setting.of("bare-line-endings", "smtp.bareLineEndings",
                    "bare LF or CR in commands or content: reject (5xx) or normalize (to CRLF)"),
            Setting.of("body-buffer-memory", "smtp.bodyBufferMemory",
                    "direct memory for message bodies being received; when it runs out, senders get 451/452"),
            Setting.of("postmaster-address", "smtp.postmaster",
                    "mailbox RCPT TO:<Postmaster> goes to, accepted from any client (RFC 5321 4.5.1); none: only"
                            + " mynetworks may use it, passed on as is"),
            Setting.of("tls-cert-file", "smtp.tlsCertificate",
                    "PEM certificate chain for STARTTLS; with tls-key-file set too, STARTTLS is offered"),
            Setting.of("tls-key-file", "smtp.tlsKey", "PEM private key of tls-cert-file (unencrypted PKCS#8, or PKCS#1 RSA)"),
            Setting.of("tls-max-sessions", "smtp.tlsMaxSessions",
                    "sessions in TLS at once, ~64 KiB of heap each (0: a quarter of the heap's worth); beyond: 454"),
            Setting.of("tls-required", "smtp.tlsRequired",
                    "every client must STARTTLS before MAIL (530 5.7.0 until then); needs tls-cert-file"),
            Setting.of("durability", "journal.durability",
                    "sync: 250 after fsync (default); os: 250 once in the page cache (weaker: lost on power loss)"),
            Setting.of("journal-max-batch", "journal.maxBatch", "messages sharing one fsync at most (group commit)"),
            Setting.of("journal-roll-interval", "journal.rollInterval",
                    "length of one journal cycle file; emptied cycles are deleted"),
            Setting.of("journal-max-record-bytes", "journal.maxRecordBytes",
                    "largest journal record (a message with its envelope); sizes the mapped blocks"),
            Setting.of("journal-compact-ratio", "journal.compactRatio",
                    "compact an old cycle (copy its pending mail forward, delete it) once at most this share"
                            + " of it is pending"),
            Setting.of("delivery", "delivery.enabled", "deliver queued mail (false: accept and queue only)"),
            Setting.of("smarthost", "delivery.smarthost", "send all mail to this HOST:PORT instead of MX hosts"),
            Setting.family("route", "delivery.routes",
                    "route.DOMAIN = HOST:PORT,... next hops for one recipient domain (before MX lookup)"),
            Setting.of("dns", "delivery.dns", "DNS server for MX lookups, HOST:PORT (default: the system's)"),
            Setting.of("retry-schedule", "delivery.retrySchedule",
                    "delays between delivery attempts, comma separated; the last one repeats"),
            Setting.of("max-queue-lifetime", "delivery.maxLifetime",
                    "how long undeliverable mail is retried before it bounces"),
            Setting.of("delivery-helo-name", "delivery.heloName",
                    "name sent in outbound EHLO and used as Reporting-MTA in bounces"),
            Setting.of("mx-port", "delivery.mxPort", "TCP port of next hops found by MX or A lookup"),
            Setting.of("connect-timeout", "delivery.connectTimeout", "outbound TCP connect timeout per next hop"),
            Setting.of("delivery-command-timeout", "delivery.commandTimeout",
                    "how long to wait for a next hop's reply (twice this after the end of data)"),
            Setting.of("connection-idle-timeout", "delivery.idleTimeout",
                    "how long an unused outbound connection stays open for reuse"),
            Setting.of("destination-limits", "delivery.limits",
                    "per destination: connections=N per-connection=N per-second=N per-minute=N (0: no rate limit)"),
            Setting.family("destination-limit", "delivery.limitOverrides",
                    "destination-limit.DOMAIN = connections=N ... stricter or looser limits for one destination"),
            Setting.of("backoff-after", "delivery.backoffAfter",
                    "consecutive temporary failures (or one 421) that back a destination off"),
            Setting.of("backoff", "delivery.backoff", "how long a backed-off destination gets no new connection"),
            Setting.of("max-recipients-per-transaction", "delivery.maxRecipientsPerTransaction",
                    "recipients of one domain sent in one outbound transaction; more are split"),
            Setting.of("delivery-starttls", "delivery.startTls",
                    "STARTTLS to next hops that offer it, without a certificate check (opportunistic); off: plaintext"),
            Setting.of("dkim-keys", "dkim.keys",
                    "DKIM keys, comma separated DOMAIN:SELECTOR:ALGORITHM:PEM-FILE (rsa-sha256 or ed25519-sha256)"),
            Setting.of("dkim-signed-headers", "dkim.signedHeaders", "header fields DKIM signs (From always)"),
            Setting.of("dkim-expiry", "dkim.expiry", "DKIM signature lifetime, the x= tag (default: none)")
    );
}

package dev.tern.loadgen;

/**
 * The latencies the generator measures. Under PIPELINING the commands of one batch are sent together, so MAIL is
 * timed from the batch's write and each later reply from the reply before it.
 */
public enum Phase {
    CONNECT("connect", "connect to 220"),
    EHLO("ehlo", "EHLO to 250"),
    /** RFC 3207: STARTTLS, its 220, the TLS handshake, and the EHLO inside TLS to its 250. */
    STARTTLS("starttls", "STARTTLS to EHLO 250 in TLS"),
    MAIL("mail", "MAIL to reply"),
    RCPT("rcpt", "RCPT to reply"),
    DATA("data", "DATA to 354"),
    END_OF_DATA("end_of_data", "end of data to reply"),
    BDAT_LAST("bdat_last", "BDAT LAST to reply"),
    /** Whole message: from its due time (open loop) or its start (closed loop) to the final reply. */
    MESSAGE("message", "message, due time to final reply");

    private final String key;
    private final String label;

    Phase(String key, String label) {
        this.key = key;
        this.label = label;
    }

    /** Short stable name, used in JSON, file names and hlog tags. */
    public String key() {
        return key;
    }

    /** Human-readable description. */
    public String label() {
        return label;
    }
}

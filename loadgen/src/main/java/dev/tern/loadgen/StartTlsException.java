package dev.tern.loadgen;

import java.net.ProtocolException;

/** A connection that could not start TLS as the run asked; {@link #kind()} is how the report counts it. */
final class StartTlsException extends ProtocolException {
    private final String kind;

    StartTlsException(String kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** The error's name in the report: starttls-not-offered, starttls-refused or starttls-plaintext-after-220. */
    String kind() {
        return kind;
    }
}

package dev.tern.journal;

/** Delivery outcomes per recipient. All but {@link #DEFERRED} are final. */
public enum OutcomeKind {
    /** The next hop accepted it (2xx). */
    DELIVERED,
    /** A temporary failure (4xx, connection or DNS trouble): try again at {@code nextAttemptMillis}. */
    DEFERRED,
    /** A permanent failure (5xx) or an expired lifetime; the DSN to the sender was committed before this record. */
    BOUNCED,
    /** Removed by the operator ({@code tern queue delete}). */
    DELETED;

    public boolean isFinal() {
        return this != DEFERRED;
    }
}

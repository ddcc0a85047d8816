package dev.tern.loadgen;

import java.util.Locale;

/** Whether the load connections upgrade to TLS with STARTTLS (RFC 3207) after the first EHLO. */
public enum StartTls {
    /** Plaintext only, even when the server offers STARTTLS: the default, so runs compare like with like. */
    NEVER,
    /** STARTTLS when the server's EHLO reply offers it, plaintext otherwise. */
    OFFERED,
    /** STARTTLS always; a server that does not offer it fails every connection ({@code starttls-not-offered}). */
    REQUIRED;

    /** The mode named {@code never}, {@code offered} or {@code required} (any case). */
    public static StartTls parse(String name) {
        for (StartTls mode : values()) {
            if (mode.name().equalsIgnoreCase(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("--starttls must be never, offered or required: " + name);
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

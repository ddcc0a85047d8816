package dev.tern.pem;

/** A PEM key file Tern cannot use; the message says why and never quotes key material. */
public final class PemKeyException extends Exception {
    public PemKeyException(String message) {
        super(message);
    }

    public PemKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.tern.delivery.dkim;

/** A DKIM private key or its settings cannot be used (unreadable file, wrong PEM type, algorithm mismatch). */
public final class DkimKeyException extends Exception {
    public DkimKeyException(String message) {
        super(message);
    }

    public DkimKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}

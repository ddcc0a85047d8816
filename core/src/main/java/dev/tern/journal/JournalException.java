package dev.tern.journal;

/** The journal could not store or read a record: a local, temporary failure (SMTP 451 4.3.0, never 5xx). */
public class JournalException extends Exception {
    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }

    public JournalException(String message) {
        super(message);
    }
}

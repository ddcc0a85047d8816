package dev.tern.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read-only channels to the cycle files that delivery reads bodies from, kept open from the first read until the
 * cycle is deleted. Opening and closing the file for every delivered message cost two system calls of about sixteen
 * per message in relay mode.
 *
 * <p>Threading: any thread may read (positional reads on a shared channel are safe); the journal writer
 * {@linkplain #forget forgets} a file before deleting it. A read racing that close fails with
 * {@link java.nio.channels.ClosedChannelException}, and the caller looks the body up again (it was carried forward).
 */
final class OpenCycleFiles implements AutoCloseable {
    private final ConcurrentHashMap<Path, FileChannel> open = new ConcurrentHashMap<>();

    FileChannel channel(Path file) throws IOException {
        FileChannel ch = open.get(file);
        if (ch != null && ch.isOpen()) {
            return ch;
        }
        try {
            return open.compute(file, (f, old) -> old != null && old.isOpen() ? old : openForReading(f));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Closes the channel to {@code file}, if one is open; called before the file is deleted. */
    void forget(Path file) {
        FileChannel ch = open.remove(file);
        if (ch != null) {
            closeQuietly(ch);
        }
    }

    int size() {
        return open.size();
    }

    @Override
    public void close() {
        open.values().forEach(OpenCycleFiles::closeQuietly);
        open.clear();
    }

    private static FileChannel openForReading(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only: nothing to lose
        }
    }
}

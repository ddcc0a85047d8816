package dev.tern.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;

/**
 * Writes log lines to standard error through a buffer that is flushed every {@code flushInterval} (100 ms by
 * default) and when the appender stops, instead of once per line.
 *
 * <p>Why: the relay logs a line per accepted and per delivered message. Logback's console appender writes and
 * flushes {@code System.err} for each line, one {@code write(2)} per line; at thousands of messages a second that
 * was about a tenth of the relay's CPU. A line reaches the terminal or the log file at most one interval late.
 *
 * <p>Threading: the logging thread lays out its line and copies it into the buffer under the appender's stream lock;
 * the flusher is one daemon platform thread that takes the same lock. No asynchronous hand-off in front of it: a
 * queue to a worker thread woke that worker for almost every line at moderate load, and cost more CPU (about 3% of
 * the relay's at 6,800 msgs/s) than laying the line out where it is logged.
 */
public final class BufferedStderrAppender<E> extends OutputStreamAppender<E> {

    private static final int BUFFER_BYTES = 64 * 1024;
    /** Room for a usual line; a longer one grows the line buffer for itself only. */
    private static final int LINE_BYTES = 1024;

    private final OutputStream target;
    /** Where a {@link LineEncoder} lays each line out, under the stream lock; reused. */
    private final LineBuffer line = new LineBuffer(LINE_BYTES);
    private Duration flushInterval = Duration.ofMillis(100);
    private Thread flusher;

    /** Used by logback's configurator: writes to file descriptor 2. */
    public BufferedStderrAppender() {
        // FileDescriptor.err directly: System.err is a PrintStream with autoflush, which would flush every line.
        this(new FileOutputStream(FileDescriptor.err));
    }

    BufferedStderrAppender(OutputStream target) {
        this.target = target;
    }

    /** Logback configuration property, e.g. {@code <flushIntervalMillis>100</flushIntervalMillis>}. */
    public void setFlushIntervalMillis(long millis) {
        if (millis <= 0) {
            throw new IllegalArgumentException("flushIntervalMillis must be positive: " + millis);
        }
        this.flushInterval = Duration.ofMillis(millis);
    }

    @Override
    public void start() {
        setOutputStream(new BufferedOutputStream(target, BUFFER_BYTES));
        setImmediateFlush(false);
        super.start();
        if (isStarted()) {
            flusher = Thread.ofPlatform().daemon().name("tern-log-flush").start(this::flushPeriodically);
        }
    }

    @Override
    public void stop() {
        Thread t = flusher;
        flusher = null;
        if (t != null) {
            t.interrupt();
        }
        flush();
        super.stop();
    }

    /**
     * With a {@link LineEncoder}, the line is laid out straight into a reused buffer and copied into the stream's, so
     * a line leaves no garbage behind; any other encoder (or a line it cannot lay out) takes logback's usual path.
     */
    @Override
    protected void subAppend(E event) {
        if (isStarted() && getEncoder() instanceof LineEncoder encoder && event instanceof ILoggingEvent e) {
            streamWriteLock.lock();
            try {
                line.clear(LINE_BYTES);
                if (encoder.layOut(e, line)) {
                    getOutputStream().write(line.array(), 0, line.length());
                    return;
                }
            } catch (IOException ex) {
                addError("cannot write to standard error", ex);
                return;
            } finally {
                streamWriteLock.unlock();
            }
        }
        super.subAppend(event);
    }

    private void flushPeriodically() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(flushInterval);
            } catch (InterruptedException e) {
                return;
            }
            flush();
        }
    }

    private void flush() {
        streamWriteLock.lock();
        try {
            if (getOutputStream() != null) {
                getOutputStream().flush();
            }
        } catch (IOException e) {
            addError("cannot flush standard error", e);
        } finally {
            streamWriteLock.unlock();
        }
    }
}

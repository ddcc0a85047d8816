package dev.tern.loadgen;

import dev.tern.io.DeadlineSweeper;
import dev.tern.sink.TernStamp;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Runs a {@link LoadSpec} against an SMTP server: one thread per connection, a ticket counter that bounds
 * the number of messages, a due time per ticket in open loop, and a hard deadline after which every connection is
 * closed. The calling thread reports once a second and returns the {@link LoadReport}.
 *
 * <p>Each run is used once, by the thread that calls {@link #run(LoadSpec)}; the package-private accessors are
 * called by its workers and are thread-safe.
 */
public final class LoadGenerator {
    private static final Duration START_DELAY = Duration.ofMillis(20);
    private static final Duration JOIN_AFTER_ABORT = Duration.ofSeconds(5);
    /**
     * Up to this many connections each gets a platform thread, beyond it a virtual thread. A platform thread
     * blocked in a read is woken by the kernel at one context switch; a virtual thread's blocking read costs a
     * failed read, an epoll registration, the poller's wake-up and a futex to wake a carrier. Measured at 5,000
     * msg/s with 50 connections: about 0.11 ms of CPU and 19 system calls per message on virtual threads, 0.07 ms
     * and 6 on platform threads.
     */
    static final int PLATFORM_THREAD_LIMIT = 512;
    private static final long WORKER_STACK_SIZE = 256 * 1024;

    private final LoadSpec spec;
    private final LoadStats stats = new LoadStats();
    private final BodyCache bodies;
    private final String runId = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    private final String dateHeader = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    private final AtomicLong tickets = new AtomicLong();
    private final BufferedWriter ids;
    private final PrintStream progress;
    /** Enforces connect and reply timeouts of the workers' blocking sockets (see {@link SmtpClient}). */
    private final DeadlineSweeper deadlines;
    /** The TLS client of the load connections, or null when the run does not use STARTTLS. */
    private final ClientTls tls;
    private long startNanos;
    private long stopNanos;
    private long warmupEndNanos;
    private double nanosPerMessage;
    private volatile boolean aborted;

    private LoadGenerator(LoadSpec spec, PrintStream progress) throws IOException {
        this.spec = spec;
        this.progress = progress;
        this.bodies = new BodyCache(spec.seed());
        if (spec.idsFile() != null) {
            Path parent = spec.idsFile().toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.ids = Files.newBufferedWriter(spec.idsFile(), StandardCharsets.US_ASCII);
        } else {
            this.ids = null;
        }
        this.tls = spec.startTls() == StartTls.NEVER ? null : ClientTls.create(spec.tlsTrust());
        // Ten sweeps per shortest timeout, so a timeout fires at most 10% (and 100 ms) late.
        Duration shortest = spec.replyTimeout().compareTo(spec.connectTimeout()) < 0
                ? spec.replyTimeout() : spec.connectTimeout();
        this.deadlines = new DeadlineSweeper(
                Duration.ofNanos(Math.clamp(shortest.toNanos() / 10, 1_000_000L, 100_000_000L)));
    }

    /** Runs the load, printing progress to standard error when the spec asks for it. */
    public static LoadReport run(LoadSpec spec) throws IOException, InterruptedException {
        return run(spec, spec.progress() ? System.err : null);
    }

    /** Runs the load, printing a progress line each second to {@code progress} (null: silent). */
    public static LoadReport run(LoadSpec spec, PrintStream progress) throws IOException, InterruptedException {
        LoadGenerator generator = new LoadGenerator(spec, progress);
        try {
            return generator.execute();
        } finally {
            generator.deadlines.close();
            if (generator.ids != null) {
                generator.ids.close();
            }
        }
    }

    private LoadReport execute() throws IOException, InterruptedException {
        Instant startedAt = Instant.now();
        try (IdleFleet idle = new IdleFleet(spec)) {
            if (spec.idleConnections() > 0) {
                idle.open(spec.connectTimeout().multipliedBy(4));
            }
            return load(startedAt, idle);
        }
    }

    private LoadReport load(Instant startedAt, IdleFleet idle) throws IOException, InterruptedException {
        startNanos = System.nanoTime() + START_DELAY.toNanos();
        stopNanos = startNanos + spec.duration().toNanos();
        long hardStopNanos = stopNanos + spec.drainTimeout().toNanos();
        warmupEndNanos = startNanos + spec.warmupTime().toNanos();
        nanosPerMessage = spec.openLoop() ? 1e9 / spec.rate() : 0;

        List<LoadWorker> workers = new ArrayList<>(spec.connections());
        List<Thread> threads = new ArrayList<>(spec.connections());
        Thread.Builder builder = spec.connections() <= PLATFORM_THREAD_LIMIT
                ? Thread.ofPlatform().daemon().stackSize(WORKER_STACK_SIZE)
                : Thread.ofVirtual();
        try (IntervalReporter reporter = new IntervalReporter(stats, spec.hlogFile(), progress, startNanos)) {
            for (int i = 0; i < spec.connections(); i++) {
                LoadWorker worker = new LoadWorker(this, i);
                workers.add(worker);
                threads.add(builder.name("tern-loadgen-" + i).start(worker));
            }
            long nextTick = startNanos + 1_000_000_000L;
            for (Thread t : threads) {
                while (t.isAlive() && !aborted) {
                    long now = System.nanoTime();
                    if (now >= hardStopNanos) {
                        abort(workers);
                        break;
                    }
                    long wait = Math.min(nextTick, hardStopNanos) - now;
                    if (wait > 0 && t.join(Duration.ofNanos(wait))) {
                        break;
                    }
                    if (System.nanoTime() >= nextTick) {
                        reporter.tick(true);
                        flushIds();
                        nextTick += 1_000_000_000L;
                    }
                }
            }
            if (aborted) {
                long deadline = System.nanoTime() + JOIN_AFTER_ABORT.toNanos();
                for (Thread t : threads) {
                    t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                }
            }
            reporter.tick(false);
            flushIds();
            return report(startedAt, reporter, idle);
        }
    }

    private void abort(List<LoadWorker> workers) {
        aborted = true;
        workers.forEach(LoadWorker::abort);
    }

    private LoadReport report(Instant startedAt, IntervalReporter reporter, IdleFleet idle) {
        long window = Math.max(0, stats.measureEnd.get() - stats.measureStart.get());
        double seconds = window / 1e9;
        long measuredAcknowledged = stats.measuredAcknowledged.sum();
        Map<Phase, Histogram> latency = Map.copyOf(reporter.totals());
        return new LoadReport(spec, startedAt, Duration.between(startedAt, Instant.now()), Duration.ofNanos(window),
                stats.started.sum(), stats.acknowledged.sum(), stats.tempfailed.sum(), stats.rejected.sum(),
                stats.failedByError.sum(), measuredAcknowledged, seconds > 0 ? measuredAcknowledged / seconds : 0,
                seconds > 0 ? stats.measuredBytes.sum() / seconds / 1e6 : 0, stats.connections.sum(),
                stats.repliesByCode(), stats.errorsByKind(), stats.tlsSessionsByCipher(), latency,
                reporter.acknowledgedPerSecond(), reporter.messageP99PerSecond(),
                new LoadReport.Idle(spec.idleConnections(), idle.established(), idle.failed(), idle.dropped()));
    }

    /** The next ticket, or -1 when the message budget is spent, the duration is over or the run was aborted. */
    long nextTicket() {
        if (aborted || (!spec.openLoop() && System.nanoTime() >= stopNanos)) {
            return -1;
        }
        long t = tickets.getAndIncrement();
        return t < spec.messages() ? t : -1;
    }

    /** When ticket {@code t} is due (nanoTime); now in closed loop; -1 if it would be due after the duration. */
    long dueTime(long ticket) {
        if (!spec.openLoop()) {
            return Math.max(startNanos, System.nanoTime());
        }
        long due = startNanos + (long) (ticket * nanosPerMessage);
        return due < stopNanos ? due : -1;
    }

    boolean measured(long ticket, long startNanos) {
        return ticket >= spec.warmupMessages() && startNanos >= warmupEndNanos;
    }

    boolean aborted() {
        return aborted;
    }

    void acknowledged(SmtpClient client, long ticket) {
        if (ids == null) {
            return;
        }
        String line = client.lastReplyId() + "\t<" + ticket + "." + runId + "@" + spec.helo() + ">\n";
        synchronized (ids) {
            try {
                ids.write(line);
            } catch (IOException e) {
                throw new UncheckedIOException("writing the acknowledged ids file", e);
            }
        }
    }

    private void flushIds() throws IOException {
        if (ids != null) {
            synchronized (ids) {
                ids.flush();
            }
        }
    }

    long stampMicros() {
        return TernStamp.nowMicros();
    }

    LoadSpec spec() {
        return spec;
    }

    DeadlineSweeper deadlines() {
        return deadlines;
    }

    ClientTls tls() {
        return tls;
    }

    LoadStats stats() {
        return stats;
    }

    BodyCache bodies() {
        return bodies;
    }

    String runId() {
        return runId;
    }

    String dateHeader() {
        return dateHeader;
    }
}

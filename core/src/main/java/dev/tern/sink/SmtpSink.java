package dev.tern.sink;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fast SMTP server that accepts mail and throws it away after checking it: the next hop in tests, benchmarks and
 * the demo. It speaks EHLO, PIPELINING, CHUNKING/BDAT, 8BITMIME and SIZE, verifies each message's
 * {@link TernStamp} (integrity and end-to-end latency), counts everything in {@link #stats()}, and injects the faults
 * its {@link SinkSettings} ask for.
 *
 * <p>Threading: one platform thread accepts; each connection runs on its own virtual thread. Every public method is
 * safe from any thread. The sink owns its sockets and threads; {@link #close()} closes every connection and waits
 * (bounded) for their threads to end.
 */
public final class SmtpSink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpSink.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    private static final Duration CLOSE_GRACE = Duration.ofMillis(200);

    private final SinkSettings settings;
    private final ServerSocketChannel server;
    private final InetSocketAddress localAddress;
    private final Counters counters = new Counters();
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<ReceivedMessage> received = new ConcurrentLinkedQueue<>();
    private final Object progress = new Object();
    private final AtomicInteger waiters = new AtomicInteger();
    private final byte[] greetingReply;
    private final byte[] ehloReply;
    private final byte[] heloReply;
    private final Thread acceptor;
    private final Writer messageIds;
    private volatile boolean closed;

    private SmtpSink(SinkSettings settings, ServerSocketChannel server, Writer messageIds) throws IOException {
        this.settings = settings;
        this.messageIds = messageIds;
        this.server = server;
        this.localAddress = (InetSocketAddress) server.getLocalAddress();
        String domain = settings.greeting();
        this.greetingReply = SinkConnection.ascii("220 " + domain + " ESMTP Tern sink\r\n");
        this.heloReply = SinkConnection.ascii("250 " + domain + "\r\n");
        List<String> lines = new ArrayList<>();
        lines.add(domain);
        if (settings.pipelining()) {
            lines.add("PIPELINING");
        }
        if (settings.chunking()) {
            lines.add("CHUNKING");
        }
        if (settings.eightBitMime()) {
            lines.add("8BITMIME");
        }
        if (settings.sizeLimit() > 0) {
            lines.add("SIZE " + settings.sizeLimit());
        }
        lines.add("ENHANCEDSTATUSCODES");
        StringBuilder ehlo = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            ehlo.append("250").append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i)).append("\r\n");
        }
        this.ehloReply = ehlo.toString().getBytes(StandardCharsets.US_ASCII);
        this.acceptor = Thread.ofPlatform().daemon().name("tern-sink-accept-" + localAddress.getPort())
                .unstarted(this::acceptLoop);
    }

    /** Binds and starts accepting; the sink is ready when this returns. */
    public static SmtpSink start(SinkSettings settings) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        Writer ids = null;
        try {
            server.bind(new InetSocketAddress(settings.listen().host(), settings.listen().port()), 4096);
            if (settings.messageIdsFile() != null) {
                ids = Files.newBufferedWriter(settings.messageIdsFile(), StandardCharsets.US_ASCII,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            SmtpSink sink = new SmtpSink(settings, server, ids);
            sink.acceptor.start();
            LOG.info("SMTP sink listening on {}", sink.localAddress);
            return sink;
        } catch (IOException | RuntimeException e) {
            server.close();
            if (ids != null) {
                ids.close();
            }
            throw e;
        }
    }

    /** The bound address (with the real port when the settings asked for port 0). */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public SinkSettings settings() {
        return settings;
    }

    /** A consistent-enough snapshot of the counters (each counter is read once; they may move in between). */
    public SinkStats stats() {
        Map<Integer, Long> replies = new TreeMap<>();
        for (int code = 0; code < counters.replies.length(); code++) {
            long n = counters.replies.get(code);
            if (n > 0) {
                replies.put(code, n);
            }
        }
        return new SinkStats(counters.connections.sum(), open.size(), counters.messages.get(),
                counters.failedMessages.sum(), counters.recipients.sum(), counters.bytes.sum(), Map.copyOf(replies),
                counters.stamped.sum(), counters.integrityFailures.sum(), counters.injectedDisconnects.sum(),
                counters.latency.copy());
    }

    /** Messages accepted with 250 so far. */
    public long messages() {
        return counters.messages.get();
    }

    /**
     * Waits until at least {@code count} messages have been accepted, or the timeout passes.
     *
     * @return true if the count was reached
     */
    public boolean awaitMessages(long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        waiters.incrementAndGet();
        try {
            synchronized (progress) {
                while (counters.messages.get() < count) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(progress, left);
                }
                return true;
            }
        } finally {
            waiters.decrementAndGet();
        }
    }

    /** The messages kept so far, in acceptance order (empty unless {@link SinkSettings#keepMessages()}). */
    public List<ReceivedMessage> received() {
        return List.copyOf(received);
    }

    /** Stops accepting, closes every connection and waits (at most a few seconds) for their threads to end. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the sink's listening socket", e);
        }
        // End of input first: a connection still writes the replies it owes (a 250 already counted), then sees the
        // end and closes. Whatever has not finished within CLOSE_GRACE is closed outright.
        for (SocketChannel c : open) {
            shutdownInputQuietly(c);
        }
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        long grace = System.nanoTime() + CLOSE_GRACE.toNanos();
        try {
            acceptor.join(CLOSE_WAIT);
            while (!open.isEmpty() && System.nanoTime() < grace) {
                Thread.sleep(5);
            }
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                for (SocketChannel c : open) {
                    closeQuietly(c);
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (messageIds != null) {
            synchronized (messageIds) {
                try {
                    messageIds.close();
                } catch (IOException e) {
                    LOG.warn("closing the Message-ID file", e);
                }
            }
        }
        LOG.info("SMTP sink on {} closed", localAddress);
    }

    private void acceptLoop() {
        long ordinal = 0;
        while (!closed) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                LOG.warn("sink accept failed", e);
                parkBriefly();
                continue;
            }
            long connection = ordinal++;
            open.add(channel);
            counters.connections.increment();
            if (closed) {
                closeQuietly(channel);
            }
            Thread.ofVirtual().name("tern-sink-" + connection).start(() -> serve(channel, connection));
        }
    }

    private void serve(SocketChannel channel, long ordinal) {
        try {
            channel.socket().setTcpNoDelay(true);
            InetSocketAddress client = (InetSocketAddress) channel.getRemoteAddress();
            new SinkConnection(this, channel, client, ordinal).serve();
        } catch (IOException e) {
            LOG.debug("sink connection {} ended: {}", ordinal, e.toString());
        } catch (RuntimeException e) {
            LOG.warn("sink connection {} failed", ordinal, e);
        } finally {
            closeQuietly(channel);
            open.remove(channel);
            signal();
        }
    }

    Counters counters() {
        return counters;
    }

    byte[] greetingReply() {
        return greetingReply;
    }

    byte[] ehloReply() {
        return ehloReply;
    }

    byte[] heloReply() {
        return heloReply;
    }

    void accepted(ReceivedMessage message) {
        if (settings.keepMessages()) {
            received.add(message);
        }
        if (settings.listener() != null) {
            settings.listener().accept(message);
        }
    }

    /**
     * Appends one accepted message's Message-ID (or {@code -} when it has none) and flushes, before the sink
     * answers 250: whatever a relay counts as delivered is in the file.
     */
    void delivered(String messageId) throws IOException {
        synchronized (messageIds) {
            messageIds.write(messageId == null ? "-" : messageId);
            messageIds.write('\n');
            messageIds.flush();
        }
    }

    boolean recordsMessageIds() {
        return messageIds != null;
    }

    /** Wakes {@link #awaitMessages} waiters; cheap when nobody waits. */
    void signal() {
        if (waiters.get() > 0) {
            synchronized (progress) {
                progress.notifyAll();
            }
        }
    }

    private static void parkBriefly() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void shutdownInputQuietly(SocketChannel channel) {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a sink connection", e);
        }
    }

    /** The sink's live counters, updated by connection threads. */
    static final class Counters {
        final LongAdder connections = new LongAdder();
        final AtomicLong messages = new AtomicLong();
        final LongAdder failedMessages = new LongAdder();
        final LongAdder recipients = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final LongAdder stamped = new LongAdder();
        final LongAdder integrityFailures = new LongAdder();
        final LongAdder injectedDisconnects = new LongAdder();
        final AtomicLongArray replies = new AtomicLongArray(600);
        final Histogram latency = new ConcurrentHistogram(3);

        void reply(int code) {
            if (code >= 0 && code < 600) {
                replies.incrementAndGet(code);
            }
        }

        void recordLatency(long micros) {
            latency.recordValue(micros);
        }

        void messageAccepted() {
            messages.incrementAndGet();
        }
    }
}

package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.Cidr;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The command path allocates nothing per command (verbs are matched as bytes, replies are pre-encoded, the envelope
 * buffer is reused). Measured with the JVM's per-thread allocation counter, not with time: a behaviour, not a
 * benchmark (bench/ has the numbers).
 */
class EngineAllocationTest {
    private static final byte[] BATCH = ("MAIL FROM:<alice@example.org> SIZE=1000 BODY=8BITMIME\r\n"
            + "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE\r\nRCPT TO:<carol@example.net>\r\n"
            + "RSET\r\nNOOP\r\nVRFY bob\r\nXFOO\r\nRSET\r\n").getBytes(StandardCharsets.US_ASCII);

    @Test
    void pipelinedCommandsAllocateNothingPerCommand() {
        ClientInfo client = ClientInfo.of(new InetSocketAddress("127.0.0.1", 1), List.of(Cidr.parse("127.0.0.0/8")));
        SmtpSettingsHolder settings = new SmtpSettingsHolder();
        SessionEngine engine = new SessionEngine(settings.value, new MemoryJournal(), new BufferPool(1024, 4, 0),
                client, new SessionCounters());
        long allocated = allocatedFeeding(engine, BATCH, 20_000);
        // 160,000 commands; a single allocation per command would be over a megabyte.
        assertThat(allocated).as("bytes allocated for 160,000 commands").isLessThan(16 * 1024);
        engine.release();
    }

    /**
     * A whole message (MAIL, RCPT, DATA, a 1 KiB body, the end of data, the commit, the 250) allocates nothing in the
     * engine either: body chunks come from the pool, the Received header is built in a reused array with a cached
     * date. The journal here discards, and the accept line's logger is off: both allocate by design, and are
     * measured where they run (docs/benchmarks.md).
     */
    @Test
    void aMessageAllocatesNothingInTheEngine() {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(SessionEngine.class);
        ch.qos.logback.classic.Level level = log.getLevel();
        log.setLevel(ch.qos.logback.classic.Level.WARN);
        try {
            ClientInfo client = ClientInfo.of(new InetSocketAddress("127.0.0.1", 1),
                    List.of(Cidr.parse("127.0.0.0/8")));
            BufferPool bodies = new BufferPool(16 * 1024, 4, 0);
            SessionEngine engine = new SessionEngine(new SmtpSettingsHolder().value, new DiscardingJournal(), bodies,
                    client, new SessionCounters());
            long allocated = allocatedFeeding(engine, MESSAGE, 20_000);
            // A second's date text now and then (the clock ticks during the run); 16 bytes a message would be 320 KB.
            assertThat(allocated).as("bytes allocated for 20,000 messages").isLessThan(64 * 1024);
            engine.release();
            assertThat(bodies.outstanding()).isZero();
        } finally {
            log.setLevel(level);
        }
    }

    private static final byte[] MESSAGE = message();

    private static byte[] message() {
        StringBuilder sb = new StringBuilder("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\n"
                + "DATA\r\nSubject: load\r\n\r\n");
        while (sb.length() < 1100) {
            sb.append("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n");
        }
        return sb.append(".\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Accepts every commit and keeps nothing. */
    private static final class DiscardingJournal implements dev.tern.journal.Journal {
        @Override
        public void commit(dev.tern.message.Envelope envelope, dev.tern.message.MessageBody body) {
        }

        @Override
        public void record(List<dev.tern.journal.Outcome> outcomes) {
        }

        @Override
        public List<dev.tern.journal.QueuedMessage> pending() {
            return List.of();
        }

        @Override
        public java.util.Optional<dev.tern.journal.QueuedMessage> find(long queueId) {
            return java.util.Optional.empty();
        }

        @Override
        public void onCommitted(java.util.function.Consumer<dev.tern.journal.QueuedMessage> listener) {
        }

        @Override
        public void readBody(long queueId, java.util.function.Consumer<ByteBuffer> consumer) {
        }

        @Override
        public dev.tern.journal.JournalStats stats() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    /**
     * Greets, warms up (class loading, JIT) by feeding {@code input} {@code n} times, then returns the bytes this thread
     * allocated feeding it {@code n} times more.
     */
    private static long allocatedFeeding(SessionEngine engine, byte[] input, int n) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteBuffer in = ByteBuffer.allocateDirect(4096);
        ByteBuffer out = ByteBuffer.allocateDirect(4096);
        in.put("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII)).flip();
        engine.greet(out);
        engine.process(in, out);
        run(engine, input, in, out, n);
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        run(engine, input, in, out, n);
        return threads.getThreadAllocatedBytes(tid) - before;
    }

    /** Feeds {@code input} to the engine {@code n} times; each time it must all be answered. */
    private static void run(SessionEngine engine, byte[] input, ByteBuffer in, ByteBuffer out, int n) {
        for (int i = 0; i < n; i++) {
            in.clear();
            in.put(input).flip();
            int step;
            do {
                step = engine.process(in, out);
                out.clear();
            } while (step == SessionEngine.FLUSH);
            if (step != SessionEngine.NEED_INPUT || in.hasRemaining()) { // no AssertJ here: it would allocate
                throw new AssertionError("unexpected step " + step);
            }
        }
    }

    /** Settings with a high error limit, so the unknown command in the batch never closes the session. */
    private static final class SmtpSettingsHolder {
        final dev.tern.config.SmtpSettings value;

        SmtpSettingsHolder() {
            dev.tern.config.SmtpSettings s = EngineDriver.settings();
            value = new dev.tern.config.SmtpSettings(s.hostname(), s.maxCommandLine(), s.maxMessageSize(),
                    s.maxDataLine(), s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(),
                    s.limitMynetworks(), Integer.MAX_VALUE, s.pregreetDelay(), s.commandTimeout(), s.dataTimeout(),
                    s.bareLineEndings());
        }
    }
}

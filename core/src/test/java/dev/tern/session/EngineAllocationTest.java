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
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ClientInfo client = ClientInfo.of(new InetSocketAddress("127.0.0.1", 1), List.of(Cidr.parse("127.0.0.0/8")));
        SmtpSettingsHolder settings = new SmtpSettingsHolder();
        SessionEngine engine = new SessionEngine(settings.value, new MemoryJournal(), new BufferPool(1024, 4, 0),
                client, new SessionCounters());
        ByteBuffer in = ByteBuffer.allocateDirect(4096);
        ByteBuffer out = ByteBuffer.allocateDirect(4096);
        in.put("EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII)).flip();
        engine.greet(out);
        engine.process(in, out);
        runBatches(engine, in, out, 20_000); // warm up: class loading, JIT
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        runBatches(engine, in, out, 20_000);
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        // 160,000 commands; a single allocation per command would be over a megabyte.
        assertThat(allocated).as("bytes allocated for 160,000 commands").isLessThan(16 * 1024);
        engine.release();
    }

    private static void runBatches(SessionEngine engine, ByteBuffer in, ByteBuffer out, int n) {
        for (int i = 0; i < n; i++) {
            in.clear();
            in.put(BATCH).flip();
            int step;
            do {
                step = engine.process(in, out);
                out.clear();
            } while (step == SessionEngine.FLUSH);
            if (step != SessionEngine.NEED_INPUT) { // no AssertJ here: it would allocate
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

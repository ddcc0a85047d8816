package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.DeliverySettings;
import dev.tern.config.JournalSettings;
import dev.tern.config.RelayConfig;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.QueueId;
import dev.tern.testing.TestCommits;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on Tern's real journal: bodies stream from mapped memory, outcomes and DSNs are journaled. */
class ChronicleDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private TestSink sink;
    private TestSink senderSink;
    private ChronicleJournal journal;
    private DeliveryEngine engine;

    @BeforeEach
    void setUp() throws Exception {
        sink = TestSink.start();
        senderSink = TestSink.start();
        journal = ChronicleJournal.open(dir, JournalSettings.defaults());
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(sink.hostPort()), "sender.test",
                        List.of(senderSink.hostPort())))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5))), journal);
    }

    @AfterEach
    void tearDown() throws Exception {
        engine.close();
        assertThat(engine.buffersOutstanding()).isZero();
        journal.close();
        sink.close();
        senderSink.close();
    }

    private long commit(String sender, List<String> rcpts, String content) throws Exception {
        BufferPool pool = new BufferPool(1024, 8, 1024);
        Envelope env = new Envelope();
        long id = QueueId.next();
        env.begin(id, System.currentTimeMillis(), Envelope.utf8("127.0.0.1"), Envelope.utf8("client.test"));
        ByteBuffer s = ByteBuffer.wrap(Envelope.utf8(sender));
        env.sender(s, 0, s.limit());
        ByteBuffer empty = ByteBuffer.allocate(0);
        env.mailParameters(content.length(), Envelope.BODY_UNSPECIFIED, false, Envelope.RET_UNSPECIFIED, empty, 0, 0);
        for (String r : rcpts) {
            ByteBuffer b = ByteBuffer.wrap(Envelope.utf8(r));
            env.addRecipient(b, 0, b.limit(), 0, empty, 0, 0);
        }
        TestCommits.commit(journal, env, content, pool);
        return id;
    }

    private boolean awaitGone(long id) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (journal.find(id).isPresent() && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        return journal.find(id).isEmpty();
    }

    @Test
    void deliversALargeMessageFromTheJournalIntact() throws Exception {
        StringBuilder sb = new StringBuilder("Subject: big\r\n\r\n");
        for (int i = 0; i < 20_000; i++) {
            sb.append(i % 3 == 0 ? "." : "").append("line ").append(i).append("\r\n");
        }
        String content = sb.toString();
        long id = commit("a@sender.test", List.of("b@rcpt.test"), content);

        TestSink.Received r = sink.next(WAIT);

        assertThat(r.text()).isEqualTo(content);
        assertThat(awaitGone(id)).isTrue();
    }

    @Test
    void journalsTheDsnAndTheBounce() throws Exception {
        sink.rcptReply = a -> a.startsWith("ok") ? "250 2.1.5 ok" : "550 5.1.1 unknown user";
        long id = commit("a@sender.test", List.of("ok@rcpt.test", "gone@rcpt.test"), "Subject: x\r\n\r\nhi\r\n");

        TestSink.Received dsn = senderSink.next(WAIT);

        assertThat(dsn.mail()).startsWith("<>");
        assertThat(dsn.text()).contains("Final-Recipient: rfc822; gone@rcpt.test", "Status: 5.1.1");
        assertThat(awaitGone(id)).isTrue();
    }

    @Test
    void keepsDeferredRecipientsPendingInTheJournal() throws Exception {
        sink.rcptReply = a -> "451 4.3.0 later";
        long id = commit("a@sender.test", List.of("b@rcpt.test"), "Subject: x\r\n\r\nhi\r\n");

        long end = System.nanoTime() + WAIT.toNanos();
        Optional<QueuedMessage> q = journal.find(id);
        while (System.nanoTime() < end && (q.isEmpty() || q.get().recipientStates().getFirst() == null)) {
            Thread.sleep(10);
            q = journal.find(id);
        }

        assertThat(q).isPresent();
        assertThat(q.get().recipientStates()).containsExactly(OutcomeKind.DEFERRED);
        assertThat(q.get().nextAttemptMillis()).isGreaterThan(System.currentTimeMillis());
    }
}

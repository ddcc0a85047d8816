package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.buffer.BufferPool;
import dev.tern.config.JournalSettings;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitTest {
    @TempDir
    Path dir;

    private final BufferPool pool = new BufferPool(4096, 1024, 1024);

    @AfterEach
    void noLeaks() {
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void concurrentVirtualThreadCommitsShareSyncs() throws Exception {
        int threads = 200;
        int perThread = 5;
        Set<Long> ids = ConcurrentHashMap.newKeySet();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults());
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                fs.add(ex.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        long id = QueueId.next();
                        Envelope e = TestMessages.envelope(id, "s@example.org", "r@example.com");
                        MessageBody b = TestMessages.body(pool, TestMessages.content(seed * 100L + i, 1024));
                        try {
                            j.commit(e, b);
                            ids.add(id);
                        } finally {
                            b.release();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            JournalStats s = j.stats();
            assertThat(ids).hasSize(threads * perThread);
            assertThat(j.pending()).extracting(QueuedMessage::queueId).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(s.messagesCommitted()).isEqualTo(threads * perThread);
            assertThat(s.syncs()).isLessThan(s.messagesCommitted() / 2);
        }
    }

    @Test
    void maxBatchOfOneSyncsEveryMessage() throws Exception {
        int n = 40;
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults().withMaxBatch(1));
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                int seed = t;
                fs.add(ex.submit(() -> {
                    long id = QueueId.next();
                    MessageBody b = TestMessages.body(pool, TestMessages.content(seed, 500));
                    try {
                        j.commit(TestMessages.envelope(id, "s@example.org", "r@example.com"), b);
                    } finally {
                        b.release();
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(j.stats().syncs()).isEqualTo(n);
        }
    }

    @Test
    void idleWriterDoesNotBurnACore() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (ChronicleJournal j = ChronicleJournal.open(dir, JournalSettings.defaults())) {
            Thread writer = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("tern-journal-writer")).findFirst().orElseThrow();
            Thread.sleep(200);
            long before = mx.getThreadCpuTime(writer.threadId());
            Thread.sleep(1000);
            long used = mx.getThreadCpuTime(writer.threadId()) - before;
            assertThat(used).isLessThan(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }
}

package dev.tern.delivery;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.JournalSettings;
import dev.tern.config.RelayConfig;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.Journal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The child JVM of {@link CrashRecoveryTest}: delivers from a journal until it is killed. */
public final class CrashChild {
    private CrashChild() {
    }

    static RelayConfig config(int sinkPort) {
        return RelayConfig.defaults().withDelivery(DeliverySettings.defaults()
                .withRoutes(Map.of("rcpt.test", List.of(new HostPort("127.0.0.1", sinkPort))))
                .withRetries(List.of(Duration.ofMillis(100)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5))
                .withLimits(new DeliverySettings.Limits(2, 100, 0, 0), Map.of()));
    }

    /** The journal under test: "chronicle" (Tern's) or "file" (the test double). */
    static Journal open(String kind, Path dir) throws Exception {
        return kind.equals("chronicle") ? ChronicleJournal.open(dir, JournalSettings.defaults()) : new FileJournal(dir);
    }

    public static void main(String[] args) throws Exception {
        Journal journal = open(args[2], Path.of(args[0]));
        DeliveryEngine.start(config(Integer.parseInt(args[1])), journal);
        Thread.sleep(Duration.ofSeconds(60)); // bounded: the test kills it long before
        System.exit(3);
    }
}

package dev.tern.it;

import dev.tern.config.JournalSettings;
import dev.tern.journal.ChronicleJournal;
import dev.tern.session.SmtpServer;
import dev.tern.session.TestConfigs;
import java.nio.file.Path;

/**
 * The relay as a child process for {@link RelayCrashTest}: a real {@link ChronicleJournal} behind a real
 * {@link SmtpServer}. Prints {@code PORT n} once listening, then serves until it is killed.
 */
public final class RelayChild {
    private RelayChild() {
    }

    public static void main(String[] args) throws Exception {
        ChronicleJournal journal = ChronicleJournal.open(Path.of(args[0]), JournalSettings.defaults());
        SmtpServer server = SmtpServer.start(TestConfigs.relay(TestConfigs.smtp()), journal);
        System.out.println("PORT " + server.localAddress().getPort());
        System.out.flush();
        Thread.sleep(Long.parseLong(args[1]));  // bounded: the parent kills it long before
        server.close();
        journal.close();
    }
}

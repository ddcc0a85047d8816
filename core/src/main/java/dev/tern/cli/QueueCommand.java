package dev.tern.cli;

import dev.tern.admin.AdminServer;
import dev.tern.admin.QueueFormat;
import dev.tern.config.ConfigException;
import dev.tern.config.ConfigLoader;
import dev.tern.config.RelayConfig;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalReader;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.QueueId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code tern queue}: look at and act on the mail queue. Asks the running relay through its admin socket; when no
 * relay runs on the data directory, {@code list} and {@code show} read the journal directly (read-only).
 */
@Command(name = "queue", mixinStandardHelpOptions = true,
        description = "Show or act on the mail queue of a relay (by its data directory).",
        subcommands = {QueueCommand.ListCmd.class, QueueCommand.Show.class, QueueCommand.Stats.class,
                QueueCommand.Flush.class, QueueCommand.Delete.class})
final class QueueCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "the relay's data directory (default: tern-data)")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "take the data directory from this config file")
    Path config;

    @Override
    public void run() {
        spec.commandLine().usage(out());
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The relay's configuration: the --config file (or the defaults), with --data-dir applied over it. */
    RelayConfig relayConfig() throws ConfigException {
        RelayConfig c = ConfigLoader.load(config, Map.of());
        return dataDir == null ? c : c.withDataDir(dataDir);
    }

    Path dataDir() throws ConfigException {
        return relayConfig().dataDir();
    }

    /** Runs {@code request} on the live relay; prints its answer; exit code 0 on OK. Empty when none is running. */
    Optional<Integer> live(String request) throws Exception {
        Optional<List<String>> answer = AdminServer.request(dataDir(), request);
        if (answer.isEmpty()) {
            return Optional.empty();
        }
        int code = 1;
        for (String line : answer.get()) {
            if (line.equals("OK")) {
                code = 0;
            } else if (line.startsWith("ERR ")) {
                err().println("tern queue: " + line.substring(4));
            } else {
                out().println(line);
            }
        }
        return Optional.of(code);
    }

    /** A read-only snapshot of the journal, for when no relay runs on it. */
    JournalReader offline() throws Exception {
        RelayConfig c = relayConfig();
        if (!Files.isDirectory(c.dataDir())) {
            throw new JournalException("no journal at " + c.dataDir().toAbsolutePath()
                    + " (pass --data-dir or --config)");
        }
        return JournalReader.open(c.dataDir(), c.journal());
    }

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        QueueCommand queue;

        int offlineOnly(String what) throws Exception {
            queue.err().println("tern queue: no relay is running on " + queue.dataDir().toAbsolutePath()
                    + " (" + what + " acts on a running relay)");
            return 1;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List queued messages: id, size, age, state, sender, recipients.")
    static final class ListCmd extends Sub {
        @Override
        public Integer call() throws Exception {
            Optional<Integer> live = queue.live("list");
            if (live.isPresent()) {
                return live.get();
            }
            QueueFormat.list(queue.offline().pending(), System.currentTimeMillis()).forEach(queue.out()::println);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one queued message in detail.")
    static final class Show extends Sub {
        @Parameters(paramLabel = "ID", description = "queue id (16 hex digits)")
        String id;

        @Override
        public Integer call() throws Exception {
            long qid;
            try {
                qid = QueueId.parse(id);
            } catch (IllegalArgumentException e) {
                queue.err().println("tern queue show: '" + id + "' is not a queue id (16 hex digits)");
                return 2;
            }
            Optional<Integer> live = queue.live("show " + id);
            if (live.isPresent()) {
                return live.get();
            }
            JournalReader reader = queue.offline();
            Optional<QueuedMessage> m = reader.find(qid);
            if (m.isEmpty()) {
                queue.err().println("tern queue show: no queued message " + id);
                return 1;
            }
            QueueFormat.show(m.get(), reader.headers(qid), System.currentTimeMillis()).forEach(queue.out()::println);
            return 0;
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Queue depth and delivery state per destination (running relay).")
    static final class Stats extends Sub {
        @Override
        public Integer call() throws Exception {
            Optional<Integer> live = queue.live("stats");
            if (live.isPresent()) {
                return live.get();
            }
            List<QueuedMessage> pending = queue.offline().pending();
            queue.out().println("journal: " + pending.size() + " queued (relay not running: no delivery state)");
            return 0;
        }
    }

    @Command(name = "flush", mixinStandardHelpOptions = true, description = "Retry all deferred mail now.")
    static final class Flush extends Sub {
        @Override
        public Integer call() throws Exception {
            Optional<Integer> live = queue.live("flush");
            return live.isPresent() ? live.get() : offlineOnly("flush");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Remove a message from the queue (journaled; no bounce is sent).")
    static final class Delete extends Sub {
        @Parameters(paramLabel = "ID", description = "queue id (16 hex digits)")
        String id;

        @Override
        public Integer call() throws Exception {
            Optional<Integer> live = queue.live("delete " + id);
            return live.isPresent() ? live.get() : offlineOnly("delete");
        }
    }
}

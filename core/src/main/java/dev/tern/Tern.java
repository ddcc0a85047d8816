package dev.tern;

import dev.tern.admin.AdminServer;
import dev.tern.config.RelayConfig;
import dev.tern.delivery.DeliveryEngine;
import dev.tern.delivery.dkim.DkimKeyException;
import dev.tern.delivery.dkim.DkimSigner;
import dev.tern.journal.ChronicleJournal;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.session.SmtpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Clock;

/**
 * A running relay: the journal (recovered first), the delivery engine working off it, the SMTP server feeding it,
 * and the admin socket {@code tern queue} talks to. {@link #launch} starts them in that order; {@link #close} stops
 * them in reverse, so nothing is accepted that cannot be stored and nothing is stored after the journal closes.
 */
public final class Tern implements AutoCloseable {
    private final RelayConfig config;
    private final ChronicleJournal journal;
    private final DeliveryEngine delivery;
    private final SmtpServer server;
    private final AdminServer admin;

    private Tern(RelayConfig config, ChronicleJournal journal, DeliveryEngine delivery, SmtpServer server,
                 AdminServer admin) {
        this.config = config;
        this.journal = journal;
        this.delivery = delivery;
        this.server = server;
        this.admin = admin;
    }

    public static Tern launch(RelayConfig config) throws IOException, JournalException, DkimKeyException {
        Files.createDirectories(config.dataDir());
        ChronicleJournal journal = ChronicleJournal.open(config.dataDir(), config.journal());
        DeliveryEngine delivery = null;
        SmtpServer server = null;
        try {
            delivery = config.delivery().enabled()
                    ? DeliveryEngine.start(config, journal, DkimSigner.fromSettings(config.dkim(), Clock.systemUTC()))
                    : null;
            server = SmtpServer.start(config, journal);
            AdminServer admin = AdminServer.start(config.dataDir(), journal, delivery);
            return new Tern(config, journal, delivery, server, admin);
        } catch (IOException | DkimKeyException | RuntimeException e) {
            closeQuietly(server);
            closeQuietly(delivery);
            journal.close();
            throw e;
        }
    }

    public RelayConfig config() {
        return config;
    }

    /** Where the SMTP server listens (the real port when the config asked for port 0). */
    public InetSocketAddress smtpAddress() {
        return server.localAddress();
    }

    public Journal journal() {
        return journal;
    }

    public SmtpServer server() {
        return server;
    }

    /** The delivery engine, or null when delivery is disabled. */
    public DeliveryEngine delivery() {
        return delivery;
    }

    @Override
    public void close() {
        closeQuietly(admin);
        closeQuietly(server);
        closeQuietly(delivery);
        journal.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            org.slf4j.LoggerFactory.getLogger(Tern.class)
                    .warn("error while stopping {}", c.getClass().getSimpleName(), e);
        }
    }
}

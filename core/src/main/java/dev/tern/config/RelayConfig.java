package dev.tern.config;

import dev.tern.delivery.dkim.DkimSettings;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a relay needs to run: one immutable tree, built once from defaults, the config file and flags
 * ({@link ConfigLoader}), validated there with every error listed. Nothing else reads system properties.
 *
 * @param listen     where the SMTP server listens
 * @param dataDir    the journal's directory
 * @param mynetworks clients allowed to relay (RFC 5321 7.1: no open relay)
 * @param smtp       protocol limits and timeouts
 * @param journal    durability and group commit
 * @param delivery   outbound routing, retries and shaping
 * @param dkim       DKIM signing keys for outgoing mail (none: no signing)
 */
public record RelayConfig(HostPort listen, Path dataDir, List<Cidr> mynetworks, SmtpSettings smtp,
                          JournalSettings journal, DeliverySettings delivery, DkimSettings dkim) {

    public static RelayConfig defaults() {
        SmtpSettings smtp = SmtpSettings.defaults();
        return new RelayConfig(new HostPort("127.0.0.1", 2525), Path.of("tern-data"),
                List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")),
                smtp, JournalSettings.defaults(), DeliverySettings.defaults().withHeloName(smtp.hostname()),
                DkimSettings.defaults());
    }

    public RelayConfig withListen(HostPort l) {
        return new RelayConfig(l, dataDir, mynetworks, smtp, journal, delivery, dkim);
    }

    public RelayConfig withDataDir(Path d) {
        return new RelayConfig(listen, d, mynetworks, smtp, journal, delivery, dkim);
    }

    public RelayConfig withSmtp(SmtpSettings s) {
        return new RelayConfig(listen, dataDir, mynetworks, s, journal, delivery, dkim);
    }

    public RelayConfig withJournal(JournalSettings j) {
        return new RelayConfig(listen, dataDir, mynetworks, smtp, j, delivery, dkim);
    }

    public RelayConfig withDelivery(DeliverySettings d) {
        return new RelayConfig(listen, dataDir, mynetworks, smtp, journal, d, dkim);
    }

    public RelayConfig withMynetworks(List<Cidr> m) {
        return new RelayConfig(listen, dataDir, m, smtp, journal, delivery, dkim);
    }
}

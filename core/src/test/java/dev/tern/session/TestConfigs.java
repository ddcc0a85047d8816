package dev.tern.session;

import dev.tern.config.Cidr;
import dev.tern.config.HostPort;
import dev.tern.config.LineEndingPolicy;
import dev.tern.config.RelayConfig;
import dev.tern.config.SmtpSettings;
import java.time.Duration;
import java.util.List;

/** Server configurations for socket tests: loopback, ephemeral port, small limits, a fluent way to vary them. */
public final class TestConfigs {
    private TestConfigs() {
    }

    public static SmtpSettings smtp() {
        return new SmtpSettings("tern.test", 512, 100_000, 1000, 10, 200, 100, false, 10, Duration.ZERO,
                Duration.ofSeconds(30), Duration.ofSeconds(30), LineEndingPolicy.REJECT);
    }

    public static RelayConfig relay(SmtpSettings smtp) {
        return relay(smtp, List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")));
    }

    public static RelayConfig relay(SmtpSettings smtp, List<Cidr> mynetworks) {
        return RelayConfig.defaults().withListen(new HostPort("127.0.0.1", 0)).withSmtp(smtp)
                .withMynetworks(mynetworks);
    }

    public static SmtpSettings withConnections(SmtpSettings s, int total, int perClient, boolean limitMynetworks) {
        return new SmtpSettings(s.hostname(), s.maxCommandLine(), s.maxMessageSize(), s.maxDataLine(),
                s.maxRecipients(), total, perClient, limitMynetworks, s.maxErrors(), s.pregreetDelay(),
                s.commandTimeout(), s.dataTimeout(), s.bareLineEndings());
    }

    public static SmtpSettings withTimeouts(SmtpSettings s, Duration pregreet, Duration command, Duration data) {
        return new SmtpSettings(s.hostname(), s.maxCommandLine(), s.maxMessageSize(), s.maxDataLine(),
                s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(), s.limitMynetworks(),
                s.maxErrors(), pregreet, command, data, s.bareLineEndings());
    }

    public static SmtpSettings withMaxMessageSize(SmtpSettings s, long max) {
        return new SmtpSettings(s.hostname(), s.maxCommandLine(), max, s.maxDataLine(),
                s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(), s.limitMynetworks(),
                s.maxErrors(), s.pregreetDelay(), s.commandTimeout(), s.dataTimeout(), s.bareLineEndings());
    }

    public static SmtpSettings withPolicy(SmtpSettings s, LineEndingPolicy p) {
        return new SmtpSettings(s.hostname(), s.maxCommandLine(), s.maxMessageSize(), s.maxDataLine(),
                s.maxRecipients(), s.maxConnections(), s.maxConnectionsPerClient(), s.limitMynetworks(),
                s.maxErrors(), s.pregreetDelay(), s.commandTimeout(), s.dataTimeout(), p);
    }
}

package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.journal.OutcomeKind;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Routing through a real DNS server (dnsmasq) to sinks on 127.0.0.2-4, all on one port (the "MX port"). */
class MxRoutingTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MESSAGE = "Subject: mx\r\n\r\nbody\r\n";

    private static Dnsmasq dns;
    private static TestSink primary;
    private static TestSink secondary;
    private static TestSink addressOnly;
    private static int port;

    private MemoryJournal journal;
    private DeliveryEngine engine;

    @BeforeAll
    static void startDns() throws Exception {
        assumeTrue(Dnsmasq.available(), "dnsmasq is installed by .ci/install-peers");
        primary = TestSink.start("127.0.0.2", 0);
        port = primary.port();
        secondary = TestSink.start("127.0.0.3", port);
        addressOnly = TestSink.start("127.0.0.4", port);
        dns = Dnsmasq.start(List.of(
                "--mx-host=mx.test,mail1.mx.test,10", "--mx-host=mx.test,mail2.mx.test,20",
                "--host-record=mail1.mx.test,127.0.0.2", "--host-record=mail2.mx.test,127.0.0.3",
                "--mx-host=eq.test,mail1.mx.test,10", "--mx-host=eq.test,mail2.mx.test,10",
                "--mx-host=down.test,mail9.down.test,5", "--mx-host=down.test,mail1.mx.test,50",
                "--host-record=mail9.down.test,127.0.0.9",
                "--host-record=aonly.test,127.0.0.4",
                "--dns-rr=nullmx.test,15,000000")); // RFC 7505: preference 0, target "." (the root)
    }

    @AfterAll
    static void stopDns() throws Exception {
        if (dns != null) {
            dns.close();
        }
        for (TestSink s : new TestSink[] {primary, secondary, addressOnly}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @AfterEach
    void stopEngine() {
        if (engine != null) {
            engine.close();
        }
        primary.received.clear();
        secondary.received.clear();
        addressOnly.received.clear();
    }

    private MxResolver resolver() {
        return new MxResolver(Optional.of(dns.hostPort()), port, Duration.ofSeconds(1), System::currentTimeMillis);
    }

    private void startEngine() {
        journal = new MemoryJournal();
        DeliverySettings s = DeliverySettings.defaults().withDns(dns.hostPort(), port)
                .withRetries(List.of(Duration.ofMillis(100)), Duration.ofMinutes(10))
                .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5));
        engine = DeliveryEngine.start(RelayConfig.defaults().withDelivery(s), journal);
    }

    @Test
    void ordersMxHostsByPreference() {
        Route r = resolver().resolve("mx.test");

        assertThat(r).isEqualTo(new Route.Hops(List.of(new HostPort("127.0.0.2", port),
                new HostPort("127.0.0.3", port))));
    }

    @Test
    void shufflesMxHostsOfEqualPreference() {
        MxResolver resolver = resolver();
        Set<HostPort> firsts = new HashSet<>();
        for (int i = 0; i < 60 && firsts.size() < 2; i++) {
            firsts.add(((Route.Hops) resolver.resolve("eq.test")).hops().getFirst());
        }
        assertThat(firsts).hasSize(2);
    }

    @Test
    void fallsBackToTheDomainsAddressWithoutMx() {
        assertThat(resolver().resolve("aonly.test"))
                .isEqualTo(new Route.Hops(List.of(new HostPort("127.0.0.4", port))));
    }

    @Test
    void refusesANullMxDomainWith556() {
        Route r = resolver().resolve("nullmx.test");

        assertThat(r).isInstanceOf(Route.Unroutable.class);
        SmtpReply reply = ((Route.Unroutable) r).reply();
        assertThat(reply.code()).isEqualTo(556);
        assertThat(reply.enhanced()).isEqualTo("5.1.10");
    }

    @Test
    void refusesANonexistentDomainWith550() {
        SmtpReply reply = ((Route.Unroutable) resolver().resolve("nosuchdomain.test")).reply();

        assertThat(reply.code()).isEqualTo(550);
        assertThat(reply.enhanced()).isEqualTo("5.1.2");
    }

    @Test
    void defersWhenTheDnsServerRefuses() {
        SmtpReply reply = ((Route.Unroutable) resolver().resolve("elsewhere.example")).reply();

        assertThat(reply.transientFailure()).isTrue();
        assertThat(reply.enhanced()).isEqualTo("4.4.3");
    }

    @Test
    void defersWhenTheDnsServerDoesNotAnswer() throws Exception {
        int silent;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            silent = s.getLocalPort();
            MxResolver r = new MxResolver(Optional.of(new HostPort("127.0.0.1", silent)), port,
                    Duration.ofMillis(300), System::currentTimeMillis);

            SmtpReply reply = ((Route.Unroutable) r.resolve("mx.test")).reply();

            assertThat(reply.transientFailure()).isTrue();
        }
    }

    @Test
    void deliversToTheMostPreferredMx() throws Exception {
        startEngine();
        long id = journal.submit("", List.of("u@mx.test"), MESSAGE);

        assertThat(primary.next(WAIT)).isNotNull();

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(secondary.received).isEmpty();
    }

    @Test
    void deliversToTheNextMxWhenTheFirstIsUnreachable() throws Exception {
        startEngine();
        long id = journal.submit("", List.of("u@down.test"), MESSAGE);

        assertThat(primary.next(WAIT)).isNotNull(); // mail9.down.test (127.0.0.9) has no sink

        assertThat(journal.awaitFinal(id, WAIT)).isTrue();
        assertThat(journal.states(id)).containsExactly(OutcomeKind.DELIVERED);
    }

    @Test
    void bouncesMailForANullMxDomainWithADsnToTheSender() throws Exception {
        startEngine();
        long id = journal.submit("sender@aonly.test", List.of("u@nullmx.test"), MESSAGE);

        TestSink.Received dsn = addressOnly.next(WAIT);

        assertThat(dsn).isNotNull();
        assertThat(dsn.mail()).startsWith("<>");
        assertThat(dsn.text()).contains("Status: 5.1.10");
        assertThat(journal.states(id)).containsExactly(OutcomeKind.BOUNCED);
    }

    @Test
    void defersRatherThanBouncesOnDnsTrouble() throws Exception {
        startEngine();
        long id = journal.submit("", List.of("u@elsewhere.example"), MESSAGE);

        assertThat(journal.await(os -> !os.isEmpty(), WAIT)).isTrue();

        assertThat(journal.outcomesOf(id).getFirst().kind()).isEqualTo(OutcomeKind.DEFERRED);
    }
}

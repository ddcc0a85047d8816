package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeliverySettingsTest {

    @Test
    void defaultsAreValid() {
        DeliverySettings d = DeliverySettings.defaults();
        assertThat(d.maxLifetime()).isEqualTo(Duration.ofDays(5));
        assertThat(d.mxPort()).isEqualTo(25);
    }

    @Test
    void listsEveryProblemAtOnce() {
        assertThatThrownBy(() -> DeliverySettings.defaults().withRetries(List.of(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retrySchedule")
                .hasMessageContaining("maxLifetime");
    }

    @Test
    void rejectsARouteWithoutHops() {
        assertThatThrownBy(() -> DeliverySettings.defaults().withRoutes(Map.of("x.test", List.of())))
                .hasMessageContaining("routes");
    }

    @Test
    void prefersADestinationsOverrideToTheDefaultLimits() {
        DeliverySettings.Limits strict = new DeliverySettings.Limits(2, 10, 1, 0);
        DeliverySettings d = DeliverySettings.defaults()
                .withLimits(DeliverySettings.Limits.defaults(), Map.of("gmail.com", strict));
        assertThat(d.limitsFor("gmail.com")).isEqualTo(strict);
        assertThat(d.limitsFor("example.com")).isEqualTo(DeliverySettings.Limits.defaults());
    }

    @Test
    void routesEverythingThroughTheSmarthost() {
        DeliverySettings d = DeliverySettings.defaults().withSmarthost(new HostPort("relay.test", 587))
                .withRoutes(Map.of("x.test", List.of(new HostPort("other.test", 25))));
        Router r = new Router(d, null);
        assertThat(r.route("x.test")).isEqualTo(new Route.Hops(List.of(new HostPort("relay.test", 587))));
        assertThat(r.destinationOf("x.test")).isEqualTo("relay.test:587");
    }

    @Test
    void routesAConfiguredDomainCaseInsensitively() {
        DeliverySettings d = DeliverySettings.defaults()
                .withRoutes(Map.of("X.Test", List.of(new HostPort("other.test", 25))));
        Router r = new Router(d, null);
        assertThat(r.route(Router.domainOf("user@x.TEST")))
                .isEqualTo(new Route.Hops(List.of(new HostPort("other.test", 25))));
    }
}

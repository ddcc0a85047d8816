package dev.tern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** mynetworks entries: what an operator writes is what is allowed to relay, and nothing is looked up. */
class CidrTest {
    @ParameterizedTest
    @ValueSource(strings = {"192.168/16", "10.1", "0", "127.1/8", "010.0.0.1", "10.0.0.256", "10.0.0.1.5", "1.2.3.",
        ".1.2.3", "1..2.3", "cafe", "localhost", "fe80::1%1", "::1::", "1:2:3:4:5:6:7:8:9"})
    void refusesWhatIsNotALiteralNetwork(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text);
    }

    @Test
    void aDottedQuadMeansWhatItSays() throws Exception {
        Cidr net = Cidr.parse("192.168.0.0/16");

        assertThat(net.contains(InetAddress.getByName("192.168.7.9"))).isTrue();
        assertThat(net.contains(InetAddress.getByName("192.0.0.168"))).isFalse();
        assertThat(net).hasToString("192.168.0.0/16");
    }

    @Test
    void ipv6InBracketsOrNot() throws Exception {
        assertThat(Cidr.parse("[2001:db8::]/32")).isEqualTo(Cidr.parse("2001:DB8::/32"));
        assertThat(Cidr.parse("2001:db8::/32").contains(InetAddress.getByName("2001:db8:1::5"))).isTrue();
        assertThat(Cidr.parse("::1").contains(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void anIpv4MappedNetworkIsTheIpv4NetworkItMaps() throws Exception {
        // A client on IPv4 reaching a dual-stack listener is seen with its IPv4 address.
        Cidr mapped = Cidr.parse("::ffff:10.0.0.0/104");

        assertThat(mapped).isEqualTo(Cidr.parse("10.0.0.0/8"));
        assertThat(mapped.contains(InetAddress.getByName("10.20.30.40"))).isTrue();
        assertThat(Cidr.parse("::ffff:a00:1")).isEqualTo(Cidr.parse("10.0.0.1/32"));
        assertThatThrownBy(() -> Cidr.parse("::ffff:10.0.0.0/64")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("96 or more");
    }
}

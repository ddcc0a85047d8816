package dev.tern.session;

import dev.tern.config.Cidr;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Who is connected: the peer's address, its literal text (for the envelope and the Received header; never a
 * reverse DNS lookup) and whether it is in mynetworks (may relay, skips the pre-greeting wait).
 *
 * @param remote      the peer's socket address
 * @param addressText the peer's IP address as US-ASCII text, e.g. {@code 127.0.0.1} or {@code ::1}
 * @param trusted     the peer is in mynetworks (RFC 5321 7.1: only these may relay)
 */
public record ClientInfo(InetSocketAddress remote, byte[] addressText, boolean trusted) {

    public static ClientInfo of(InetSocketAddress remote, List<Cidr> mynetworks) {
        InetAddress a = remote.getAddress();
        boolean trusted = false;
        for (Cidr c : mynetworks) {
            if (c.contains(a)) {
                trusted = true;
                break;
            }
        }
        // A link-local IPv6 peer's text carries its scope ("fe80::1%2"), which no RFC 5321 4.1.3 literal has.
        String text = a.getHostAddress();
        int scope = text.indexOf('%');
        return new ClientInfo(remote, (scope < 0 ? text : text.substring(0, scope)).getBytes(StandardCharsets.US_ASCII),
                trusted);
    }

    public InetAddress address() {
        return remote.getAddress();
    }

    @Override
    public String toString() {
        return new String(addressText, StandardCharsets.US_ASCII) + ":" + remote.getPort();
    }
}

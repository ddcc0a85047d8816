package dev.tern.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** An IPv4 or IPv6 network in CIDR notation; {@link #contains} answers without allocating. */
public record Cidr(byte[] network, int prefix) {

    /**
     * Reads a network: an IPv4 dotted quad (four decimal parts, no leading zeros) or an IPv6 literal (RFC 4291 2.2,
     * optionally in brackets), with an optional prefix length. Shorter IPv4 forms are refused: the inet_aton way of
     * reading them would take {@code 192.168/16} for 192.0.0.168/16. Never does a DNS lookup. An IPv4-mapped IPv6
     * network ({@code ::ffff:10.0.0.0/104}) becomes the IPv4 network it maps (10.0.0.0/8), since a client connecting
     * over IPv4 to a dual-stack socket is seen with its IPv4 address.
     *
     * @throws IllegalArgumentException when the text is not such a network
     */
    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (addr.startsWith("[") && addr.endsWith("]")) {
            addr = addr.substring(1, addr.length() - 1);
        }
        boolean v6 = addr.indexOf(':') >= 0;
        byte[] bytes = v6 ? ipv6(addr) : ipv4(addr);
        if (bytes == null) {
            throw new IllegalArgumentException("not an IP network: '" + text + "'");
        }
        int max = v6 ? 128 : 32;
        int prefix;
        try {
            prefix = slash < 0 ? max : Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad prefix length in '" + text + "'");
        }
        if (prefix < 0 || prefix > max) {
            throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
        }
        if (v6 && bytes.length == 4) { // IPv4-mapped: its first 96 bits are ::ffff
            if (prefix < 96) {
                throw new IllegalArgumentException("an IPv4-mapped network needs a prefix of 96 or more: '" + text
                        + "'");
            }
            return new Cidr(bytes, prefix - 96);
        }
        return new Cidr(bytes, prefix);
    }

    /** Four decimal parts of 0-255 without leading zeros, else null. */
    private static byte[] ipv4(String addr) {
        byte[] out = new byte[4];
        int part = 0;
        int at = 0;
        while (part < 4) {
            int start = at;
            int value = 0;
            while (at < addr.length() && addr.charAt(at) >= '0' && addr.charAt(at) <= '9' && at - start < 3) {
                value = value * 10 + addr.charAt(at++) - '0';
            }
            int digits = at - start;
            if (digits == 0 || value > 255 || (digits > 1 && addr.charAt(start) == '0')) {
                return null;
            }
            out[part++] = (byte) value;
            if (part < 4) {
                if (at >= addr.length() || addr.charAt(at) != '.') {
                    return null;
                }
                at++;
            }
        }
        return at == addr.length() ? out : null;
    }

    /**
     * An IPv6 literal's bytes (an IPv4 tail allowed, no zone), parsed without any lookup, else null: 16, or 4 for an
     * IPv4-mapped address, which {@code Inet6Address.ofLiteral} answers with the IPv4 address it maps.
     */
    private static byte[] ipv6(String addr) {
        if (!addr.matches("[0-9a-fA-F:.]+")) {
            return null;
        }
        try {
            return Inet6Address.ofLiteral(addr).getAddress();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (a[full] & mask) == (network[full] & mask);
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }
}

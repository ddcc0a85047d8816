package dev.tern.delivery;

import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks the next hops for a recipient domain: the smarthost for everything when one is set, else a configured route
 * for the domain, else DNS (MX). Also names the destination a recipient belongs to, the unit of queueing, shaping and
 * back-off: the smarthost when there is one (all mail shares its connections), else the domain.
 *
 * <p>Threading: immutable apart from the resolver's cache; any thread.
 */
final class Router {
    private final Map<String, List<HostPort>> routes = new HashMap<>();
    private final MxResolver mx;
    /** Built once: asked for every message. Null without a smarthost. */
    private final Route.Hops smarthostRoute;
    private final String smarthostName;

    Router(DeliverySettings settings, MxResolver mx) {
        this.mx = mx;
        this.smarthostRoute = settings.smarthost().map(h -> new Route.Hops(List.of(h))).orElse(null);
        this.smarthostName = settings.smarthost().map(HostPort::toString).orElse(null);
        settings.routes().forEach((d, hops) -> routes.put(d.toLowerCase(Locale.ROOT), List.copyOf(hops)));
    }

    /** The lower-cased domain of an address (after the last {@code @}); empty for a local part only. */
    static String domainOf(String address) {
        int at = address.lastIndexOf('@');
        return at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT);
    }

    String destinationOf(String domain) {
        return smarthostName != null ? smarthostName : domain;
    }

    Route route(String domain) {
        if (smarthostRoute != null) {
            return smarthostRoute;
        }
        List<HostPort> hops = routes.get(domain);
        if (hops != null) {
            return new Route.Hops(hops);
        }
        if (domain.isEmpty()) {
            return new Route.Unroutable(SmtpReply.local(550, "5.1.3", "recipient address has no domain"));
        }
        return mx.resolve(domain);
    }
}

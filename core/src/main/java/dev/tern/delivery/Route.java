package dev.tern.delivery;

import dev.tern.config.HostPort;
import java.util.List;

/** Where the mail for one recipient domain goes: next hops to try in order, or why there are none. */
sealed interface Route {

    /** Next hops in the order to try them (MX preference order, equal preferences shuffled). */
    record Hops(List<HostPort> hops) implements Route {
        public Hops {
            hops = List.copyOf(hops);
        }
    }

    /** No usable next hop: a 4xx reply defers (DNS trouble), a 5xx bounces (no such domain, null MX). */
    record Unroutable(SmtpReply reply) implements Route {
    }
}

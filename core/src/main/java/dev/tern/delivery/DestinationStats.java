package dev.tern.delivery;

/**
 * A snapshot of one destination for {@code tern queue stats}.
 *
 * @param destination        the recipient domain, or the smarthost
 * @param queued             recipient groups waiting (ready now or scheduled for a retry)
 * @param activeConnections  workers currently holding a connection (or connecting)
 * @param delivered          recipients delivered since start
 * @param deferred           recipient deferrals since start
 * @param bounced            recipients bounced since start
 * @param backoffUntilMillis while in the future, the destination is backed off (no new transactions); else 0
 */
public record DestinationStats(String destination, int queued, int activeConnections, long delivered, long deferred,
                               long bounced, long backoffUntilMillis) {

    public boolean backedOff(long nowMillis) {
        return backoffUntilMillis > nowMillis;
    }
}

package dev.tern.delivery;

import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;

/**
 * The recipients of one message that go to one domain, due at a given time: the unit of scheduling. All of them
 * travel in one transaction (RFC 5321 allows many recipients per transaction; per-recipient replies come back).
 *
 * @param message     the message
 * @param domain      the recipients' domain (lower case)
 * @param destination the queue it waits in (the domain, or the smarthost)
 * @param recipients  indices into the envelope's recipients
 * @param attempts    delivery attempts already made for these recipients
 * @param dueAtMillis when it may run (epoch millis)
 */
record DeliveryJob(MessageState message, String domain, String destination, int[] recipients, int attempts,
                   long dueAtMillis) implements Delayed {

    DeliveryJob at(long when) {
        return new DeliveryJob(message, domain, destination, recipients, attempts, when);
    }

    @Override
    public long getDelay(TimeUnit unit) {
        return unit.convert(dueAtMillis - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
        return o instanceof DeliveryJob j ? Long.compare(dueAtMillis, j.dueAtMillis)
                : Long.compare(getDelay(TimeUnit.MILLISECONDS), o.getDelay(TimeUnit.MILLISECONDS));
    }
}

package dev.tern.admin;

import dev.tern.journal.JournalStats;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.QueueId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** How {@code tern queue} prints the queue: shared by the relay's admin socket and the offline journal reader. */
public final class QueueFormat {
    private QueueFormat() {
    }

    public static List<String> list(List<QueuedMessage> messages, long nowMillis) {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "%-16s %9s %8s %-8s %-30s %s", "ID", "SIZE", "AGE", "STATE", "SENDER",
                "RECIPIENTS"));
        for (QueuedMessage m : messages) {
            EnvelopeRecord e = m.envelope();
            out.add(String.format(Locale.ROOT, "%-16s %9d %8s %-8s %-30s %s", QueueId.format(m.queueId()),
                    m.bodyLength(), age(nowMillis - e.receivedAtMillis()), state(m), sender(e),
                    String.join(",", openRecipients(m))));
        }
        out.add(messages.size() + " message(s) queued");
        return out;
    }

    /** The recipients still to be delivered (as mailq lists them): never tried yet, or deferred. */
    private static List<String> openRecipients(QueuedMessage m) {
        List<String> open = new ArrayList<>();
        List<EnvelopeRecord.Recipient> all = m.envelope().recipients();
        for (int i = 0; i < all.size(); i++) {
            OutcomeKind k = i < m.recipientStates().size() ? m.recipientStates().get(i) : null;
            if (k == null || !k.isFinal()) {
                open.add(all.get(i).address());
            }
        }
        return open;
    }

    public static List<String> show(QueuedMessage m, String headers, long nowMillis) {
        EnvelopeRecord e = m.envelope();
        List<String> out = new ArrayList<>();
        out.add("id:        " + QueueId.format(m.queueId()));
        out.add("received:  " + java.time.Instant.ofEpochMilli(e.receivedAtMillis()) + " ("
                + age(nowMillis - e.receivedAtMillis()) + " ago) from " + e.helo() + " [" + e.client() + "]");
        out.add("sender:    " + sender(e) + (e.envid().isEmpty() ? "" : " ENVID=" + e.envid())
                + (e.ret() == 0 ? "" : e.ret() == 1 ? " RET=FULL" : " RET=HDRS")
                + (e.smtputf8() ? " SMTPUTF8" : ""));
        out.add("size:      " + m.bodyLength() + " bytes stored" + (e.size() >= 0 ? ", SIZE=" + e.size() : ""));
        out.add("state:     " + state(m) + ", attempts " + m.attempts()
                + (m.nextAttemptMillis() > nowMillis ? ", next in " + age(m.nextAttemptMillis() - nowMillis) : ""));
        if (!m.lastDetail().isEmpty()) {
            out.add("last:      " + m.lastDetail());
        }
        for (int i = 0; i < e.recipients().size(); i++) {
            EnvelopeRecord.Recipient r = e.recipients().get(i);
            OutcomeKind k = i < m.recipientStates().size() ? m.recipientStates().get(i) : null;
            out.add("recipient: " + r.address() + " " + (k == null ? "pending" : k.name().toLowerCase(Locale.ROOT))
                    + (r.orcpt().isEmpty() ? "" : " ORCPT=" + r.orcpt()));
        }
        out.add("headers:");
        headers.replace("\r\n", "\n").lines().forEach(l -> out.add("  " + l));
        return out;
    }

    public static String journalStats(JournalStats s) {
        return "journal: " + s.pendingMessages() + " queued, " + s.messagesCommitted() + " committed, " + s.syncs()
                + " syncs, " + s.failures() + " failures since start";
    }

    /** One line per destination (whatever the delivery engine reports, one entry per line). */
    public static List<String> deliveryStats(Object stats) {
        List<String> out = new ArrayList<>();
        if (stats instanceof java.util.Map<?, ?> map) {
            map.forEach((destination, s) -> out.add(destination + ": " + s));
            if (map.isEmpty()) {
                out.add("delivery: no destinations yet");
            }
        } else if (stats instanceof Iterable<?> it) {
            it.forEach(o -> out.add(String.valueOf(o)));
        } else {
            String.valueOf(stats).lines().forEach(out::add);
        }
        return out;
    }

    private static String sender(EnvelopeRecord e) {
        return e.nullSender() ? "<>" : e.sender();
    }

    private static String state(QueuedMessage m) {
        if (m.attempts() == 0) {
            return "active";
        }
        return "deferred";
    }

    static String age(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return s / 60 + "m";
        }
        if (s < 172_800) {
            return s / 3600 + "h";
        }
        return s / 86_400 + "d";
    }
}

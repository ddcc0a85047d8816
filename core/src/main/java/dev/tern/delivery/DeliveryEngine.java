package dev.tern.delivery;

import dev.tern.buffer.BufferPool;
import dev.tern.config.DeliverySettings;
import dev.tern.config.HostPort;
import dev.tern.config.RelayConfig;
import dev.tern.delivery.dkim.DkimSigner;
import dev.tern.delivery.dkim.DkimSigningStream;
import dev.tern.io.DeadlineSweeper;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.Outcome;
import dev.tern.journal.OutcomeKind;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.QueueId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers queued mail to its next hops and journals what became of every recipient.
 *
 * <p>Flow: messages come from {@link Journal#pending()} at start (recovery) and from {@link Journal#onCommitted}
 * (new mail). Each message's open recipients are grouped by domain into {@link DeliveryJob}s, kept in a delay queue
 * until due, then handed to their {@link Destination}'s ready queue. Each destination runs up to its connection limit
 * of workers, one virtual thread per active connection; a worker takes jobs one after another over the same
 * connection (up to the per-connection message limit), then leaves the connection in the {@link ConnectionCache}.
 * When more jobs are waiting and the next hop offers PIPELINING and CHUNKING, up to {@link #MAX_BATCH} of them go in
 * one pipelined batch, and their outcomes in one journal record. Every outcome is journaled; a bounce's DSN is
 * committed as a new message (null sender) before the BOUNCED outcome, so a crash in between can duplicate a DSN but
 * never lose one. After a crash the journal's pending messages are delivered again (at least once).
 *
 * <p>Threading: public methods may be called from any thread. One virtual thread dispatches due jobs; workers are
 * virtual threads. The commit listener runs on the journal's writer thread and only enqueues.
 */
public final class DeliveryEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);
    private static final long HOP_BUSY_RETRY_MILLIS = 50;
    /** At most this many waiting messages go to a next hop in one pipelined batch (one 16 KiB write of 1 KiB mail). */
    static final int MAX_BATCH = 12;
    private static final int[] NONE = new int[0];

    private final DeliverySettings settings;
    private final NextHopTls nextHopTls;
    private final Journal journal;
    private final BufferPool pool;
    private final Router router;
    private final ConnectionCache cache;
    private final DeadlineSweeper sweeper;
    private final HopLimiter hopLimiter;
    private final RetryPolicy retry;
    private final DsnBuilder dsn;
    private final DkimSigner signer;
    private final Map<Long, MessageState> messages = new ConcurrentHashMap<>();
    private final Map<String, Destination> destinations = new ConcurrentHashMap<>();
    private final DelayQueue<DeliveryJob> scheduled = new DelayQueue<>();
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private volatile boolean running = true;
    /** Counts {@link #flush()} calls: an attempt in flight during a flush retries its deferrals at once. */
    private final java.util.concurrent.atomic.AtomicLong flushes = new java.util.concurrent.atomic.AtomicLong();
    private Thread dispatcher;

    private DeliveryEngine(DeliverySettings settings, Journal journal, DkimSigner signer) {
        this.settings = settings;
        this.nextHopTls = new NextHopTls(settings.startTls());
        this.signer = signer;
        this.journal = journal;
        this.pool = new BufferPool(64 * 1024, 32, 1024);
        this.router = new Router(settings, new MxResolver(settings.dns(), settings.mxPort(),
                settings.commandTimeout().compareTo(java.time.Duration.ofSeconds(10)) < 0
                        ? settings.commandTimeout() : java.time.Duration.ofSeconds(10),
                System::currentTimeMillis));
        this.cache = new ConnectionCache(settings.idleTimeout().toMillis());
        this.hopLimiter = new HopLimiter(settings);
        this.sweeper = new DeadlineSweeper(
                Duration.ofMillis(Math.max(20, Math.min(250, settings.commandTimeout().toMillis() / 4))));
        this.retry = new RetryPolicy(settings.retrySchedule(), settings.maxLifetime());
        this.dsn = new DsnBuilder(settings.heloName(), pool);
    }

    /** Starts delivering {@code journal}'s pending mail and everything committed from now on. */
    public static DeliveryEngine start(RelayConfig config, Journal journal) {
        return start(config, journal, null);
    }

    /**
     * As {@link #start(RelayConfig, Journal)}, DKIM-signing outgoing mail with {@code signer} (null: no signing)
     * for the From: domain, else the envelope sender's domain, when it has a key.
     */
    public static DeliveryEngine start(RelayConfig config, Journal journal, DkimSigner signer) {
        DeliveryEngine e = new DeliveryEngine(config.delivery(), journal,
                signer == null || !signer.hasKeys() ? null : signer);
        e.begin();
        return e;
    }

    private void begin() {
        journal.onCommitted(this::admit);
        for (QueuedMessage q : journal.pending()) {
            admit(q);
        }
        if (settings.enabled()) {
            dispatcher = Thread.ofVirtual().name("tern-delivery-dispatch").start(this::dispatch);
        }
    }

    /** Takes a message into the schedule: its open recipients, grouped by domain. Never blocks. */
    private void admit(QueuedMessage q) {
        if (!running) {
            return;
        }
        MessageState m = new MessageState(q);
        if (messages.putIfAbsent(m.queueId(), m) != null) {
            return; // seen both in pending() and by the commit listener
        }
        int[] open = m.open();
        if (open.length == 0) {
            messages.remove(m.queueId());
            return;
        }
        if (open.length == 1) { // the common case, without the grouping's maps and lists
            String domain = Router.domainOf(m.envelope().recipients().get(open[0]).address());
            scheduled.add(new DeliveryJob(m, domain, router.destinationOf(domain), open, q.attempts(),
                    q.nextAttemptMillis()));
            return;
        }
        Map<String, List<Integer>> byDomain = new LinkedHashMap<>();
        for (int i : open) {
            String domain = Router.domainOf(m.envelope().recipients().get(i).address());
            byDomain.computeIfAbsent(domain, d -> new ArrayList<>()).add(i);
        }
        int per = settings.maxRecipientsPerTransaction();
        byDomain.forEach((domain, idx) -> {
            for (int from = 0; from < idx.size(); from += per) {
                int[] part = idx.subList(from, Math.min(idx.size(), from + per)).stream()
                        .mapToInt(Integer::intValue).toArray();
                scheduled.add(new DeliveryJob(m, domain, router.destinationOf(domain), part, q.attempts(),
                        q.nextAttemptMillis()));
            }
        });
    }

    private void dispatch() {
        while (running) {
            DeliveryJob job;
            try {
                job = scheduled.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (job != null) {
                Destination d = destination(job.destination());
                d.ready.add(job);
                startWorkers(d);
            }
        }
    }

    private Destination destination(String name) {
        return destinations.computeIfAbsent(name, n -> new Destination(n, settings.limitsFor(n)));
    }

    private void startWorkers(Destination d) {
        while (running) {
            int n = d.workers.get();
            if (n >= d.limits.maxConnections() || d.ready.isEmpty()) {
                return;
            }
            if (d.workers.compareAndSet(n, n + 1)) {
                // Started for almost every message at moderate load: a prepared name, and no copy of the starting
                // thread's inheritable thread-locals (nothing here uses them).
                Thread t = Thread.ofVirtual().name(d.workerName).inheritInheritableThreadLocals(false)
                        .unstarted(() -> work(d));
                workers.add(t);
                t.start();
            }
        }
    }

    /** One worker: one connection at a time, jobs of its destination until the ready queue is empty. */
    private void work(Destination d) {
        OutboundConnection conn = null;
        try {
            DeliveryJob job;
            List<DeliveryJob> batch = new ArrayList<>(MAX_BATCH);
            while (running && (job = d.ready.poll()) != null) {
                if (conn != null && conn.capabilities().pipelining() && conn.capabilities().chunking()) {
                    // More mail for this destination is waiting: send it in one go over this connection.
                    int room = Math.min(MAX_BATCH, d.limits.maxMessagesPerConnection() - conn.transactions());
                    batch.clear();
                    batch.add(job);
                    DeliveryJob more;
                    while (batch.size() < room && (more = d.ready.poll()) != null) {
                        batch.add(more);
                    }
                    if (batch.size() > 1) {
                        conn = attemptBatch(d, batch, conn);
                        continue;
                    }
                }
                conn = attemptGuarded(d, job, conn);
            }
        } catch (InterruptedException e) {
            // Closing; the jobs not sent are back in the schedule.
        } finally {
            if (conn != null) {
                keepOrClose(d, conn);
            }
            d.workers.decrementAndGet();
            workers.remove(Thread.currentThread());
            if (running && !d.ready.isEmpty()) {
                startWorkers(d);
            }
        }
    }

    /**
     * {@link #attempt}, where a bug must not lose the job: it is logged and tried again on the retry schedule. On
     * interruption the job goes back to the schedule.
     */
    private OutboundConnection attemptGuarded(Destination d, DeliveryJob job, OutboundConnection conn)
            throws InterruptedException {
        try {
            return attempt(d, job, conn);
        } catch (InterruptedException e) {
            scheduled.add(job);
            throw e;
        } catch (RuntimeException e) {
            LOG.error("delivery of {} to {} failed unexpectedly", QueueId.format(job.message().queueId()), d.name, e);
            scheduled.add(job.at(System.currentTimeMillis() + retry.delayAfter(job.attempts() + 1)));
            if (conn != null) {
                conn.abort();
            }
            return null;
        }
    }

    private void keepOrClose(Destination d, OutboundConnection conn) {
        if (running && conn.usable() && conn.transactions() < d.limits.maxMessagesPerConnection()) {
            cache.give(conn);
        } else {
            conn.quit();
        }
    }

    /** Delivers one job; returns the connection to keep using, or null. */
    private OutboundConnection attempt(Destination d, DeliveryJob job, OutboundConnection conn)
            throws InterruptedException {
        MessageState m = job.message();
        int[] rcpts = m.open(job.recipients());
        if (rcpts.length == 0) {
            return conn;
        }
        long flushEpoch = flushes.get();
        long now = System.currentTimeMillis();
        if (now < d.backoffUntil()) {
            // Backed off: wait without counting an attempt.
            scheduled.add(job.at(d.backoffUntil()));
            return conn;
        }
        Route route = router.route(job.domain());
        if (route instanceof Route.Unroutable u) {
            settle(d, job, rcpts, TransactionResult.all(u.reply(), rcpts.length), null, false, flushEpoch);
            return conn;
        }
        List<HostPort> hops = ((Route.Hops) route).hops();
        if (conn != null && !hops.contains(conn.hop())) {
            keepOrClose(d, conn);
            conn = null;
        }
        for (int i = 0; conn == null && i < hops.size(); i++) {
            conn = cache.take(hops.get(i));
        }
        SmtpReply failure = null;
        boolean busy = false;
        for (int i = 0; conn == null && i < hops.size(); i++) {
            HostPort hop = hops.get(i);
            if (!hopLimiter.tryAcquire(hop)) {
                busy = true; // the host's connection limit is reached (shared with other destinations)
                continue;
            }
            try {
                conn = OutboundConnection.open(hop, settings.heloName(), pool, sweeper,
                        settings.connectTimeout().toMillis(), settings.commandTimeout().toMillis(), nextHopTls);
                conn.onClose(() -> hopLimiter.release(hop));
            } catch (java.io.IOException e) {
                hopLimiter.release(hop);
                failure = e instanceof HopFailure f ? f.reply()
                        : SmtpReply.local(451, "4.4.1", hop + ": " + e.getMessage());
                LOG.info("next hop {} for {} unusable: {}", hop, d.name, failure.oneLine());
            }
        }
        if (conn == null && busy && failure == null) {
            // Every host is at its connection limit: wait a little without counting an attempt.
            scheduled.add(job.at(now + HOP_BUSY_RETRY_MILLIS));
            return null;
        }
        if (conn == null) {
            // RFC 5321 5.1: when no next hop can be reached, the mail is deferred, even after a 5xx greeting.
            SmtpReply why = failure != null && failure.transientFailure() ? failure
                    : SmtpReply.local(451, "4.4.1", "no next hop of " + job.domain() + " reachable: "
                    + (failure == null ? "none" : failure.oneLine()));
            settle(d, job, rcpts, TransactionResult.all(why, rcpts.length), null, false, flushEpoch);
            return null;
        }
        byte[] prefix;
        try {
            prefix = signature(m);
        } catch (JournalException e) {
            settle(d, job, rcpts, TransactionResult.all(SmtpReply.local(451, "4.3.0",
                    "local error reading the queued message: " + e.getMessage()), rcpts.length), null, false,
                    flushEpoch);
            return conn;
        }
        d.rate.acquire();
        long id = m.queueId();
        TransactionResult result = conn.send(m.envelope(), rcpts, prefix, m.bodyLength(),
                consumer -> journal.readBody(id, consumer));
        settle(d, job, rcpts, result, conn.hop(), conn.capabilities().dsn(), flushEpoch);
        if (!conn.usable() || result.serviceClosing()
                || conn.transactions() >= d.limits.maxMessagesPerConnection()) {
            conn.quit();
            return null;
        }
        return conn;
    }

    /**
     * Delivers several waiting jobs over {@code conn} (which offers PIPELINING and CHUNKING) in one pipelined batch
     * ({@link OutboundConnection#sendAll}). A job that cannot go this way (backed off, not routed to this hop, no
     * signature) takes the one-job path afterwards. Returns the connection to keep using, or null. On interruption
     * every job not sent is back in the schedule.
     */
    private OutboundConnection attemptBatch(Destination d, List<DeliveryJob> batch, OutboundConnection conn)
            throws InterruptedException {
        long flushEpoch = flushes.get();
        List<DeliveryJob> sending = new ArrayList<>(batch.size());
        List<MailTransaction> txs = new ArrayList<>(batch.size());
        List<DeliveryJob> alone = new ArrayList<>();
        int visited = 0;
        int settled = 0;
        try {
            for (; visited < batch.size(); visited++) {
                DeliveryJob job = batch.get(visited);
                MessageState m = job.message();
                int[] rcpts = m.open(job.recipients());
                if (rcpts.length == 0) {
                    continue;
                }
                byte[] prefix = m.signature();
                if (prefix == null) {
                    try {
                        prefix = signature(m);
                    } catch (JournalException e) {
                        prefix = null; // the one-job path reports it
                    }
                }
                if (prefix == null || System.currentTimeMillis() < d.backoffUntil()
                        || !(router.route(job.domain()) instanceof Route.Hops h) || !h.hops().contains(conn.hop())) {
                    alone.add(job);
                    continue;
                }
                d.rate.acquire();
                long id = m.queueId();
                sending.add(job);
                txs.add(new MailTransaction(m.envelope(), rcpts, prefix, m.bodyLength(),
                        consumer -> journal.readBody(id, consumer)));
            }
            if (!txs.isEmpty()) {
                List<TransactionResult> results = conn.sendAll(txs);
                boolean closing = false;
                List<Settlement> settlements = new ArrayList<>(results.size());
                for (int i = 0; i < results.size(); i++) {
                    TransactionResult r = results.get(i);
                    closing |= r.serviceClosing();
                    settlements.add(decide(d, sending.get(i), txs.get(i).recipients(), r, conn.hop(),
                            conn.capabilities().dsn(), flushEpoch));
                }
                settled = results.size();
                record(settlements);
                if (!conn.usable() || closing || conn.transactions() >= d.limits.maxMessagesPerConnection()) {
                    conn.quit();
                    conn = null;
                }
            }
        } catch (InterruptedException e) {
            scheduled.addAll(sending);
            scheduled.addAll(alone);
            scheduled.addAll(batch.subList(visited, batch.size()));
            throw e;
        } catch (RuntimeException e) {
            // A bug must not lose the jobs: log it and try them again on the retry schedule.
            LOG.error("delivery of a batch to {} failed unexpectedly", d.name, e);
            long now = System.currentTimeMillis();
            List<DeliveryJob> unsettled = new ArrayList<>(sending.subList(settled, sending.size()));
            unsettled.addAll(batch.subList(visited, batch.size()));
            for (DeliveryJob job : unsettled) {
                scheduled.add(job.at(now + retry.delayAfter(job.attempts() + 1)));
            }
            scheduled.addAll(alone);
            if (conn != null) {
                conn.abort();
            }
            return null;
        }
        for (int i = 0; i < alone.size(); i++) {
            try {
                conn = attemptGuarded(d, alone.get(i), conn);
            } catch (InterruptedException e) {
                scheduled.addAll(alone.subList(i + 1, alone.size()));
                throw e;
            }
        }
        return conn;
    }

    /**
     * The DKIM-Signature field(s) to prepend, computed once per message by a first pass over the stored body (the
     * same bytes every attempt sends); empty without a signer or a matching key.
     */
    private byte[] signature(MessageState m) throws JournalException {
        byte[] sig = m.signature();
        if (sig != null) {
            return sig;
        }
        if (signer == null) {
            sig = new byte[0];
        } else {
            DkimSigningStream stream = signer.stream(Router.domainOf(m.envelope().sender()));
            journal.readBody(m.queueId(), stream::update);
            sig = stream.finish().orElse(new byte[0]);
        }
        m.signature(sig);
        return sig;
    }

    /** Turns per-recipient replies into journaled outcomes, a DSN where one is due, and retries. */
    private void settle(Destination d, DeliveryJob job, int[] rcpts, TransactionResult result, HostPort hop,
                        boolean hopTakesDsn, long flushEpoch) {
        record(List.of(decide(d, job, rcpts, result, hop, hopTakesDsn, flushEpoch)));
    }

    /**
     * What one job's attempt decided, to be journaled ({@link #record}) before anything acts on it: the outcomes, and
     * the recipients to try again at {@code nextAttempt}.
     */
    private record Settlement(DeliveryJob job, HostPort hop, List<Outcome> outcomes, int[] again, long nextAttempt,
                              long flushEpoch) {
    }

    /**
     * Decides each recipient's outcome from its reply, commits a DSN where one is due (before the BOUNCED outcome is
     * journaled: a crash in between can duplicate a DSN but never lose one) and counts; journals nothing yet.
     */
    private Settlement decide(Destination d, DeliveryJob job, int[] rcpts, TransactionResult result, HostPort hop,
                              boolean hopTakesDsn, long flushEpoch) {
        MessageState m = job.message();
        EnvelopeRecord env = m.envelope();
        long now = System.currentTimeMillis();
        long nextAttempt = now + retry.delayAfter(job.attempts() + 1);
        OutcomeKind[] kinds = new OutcomeKind[rcpts.length];
        String[] details = new String[rcpts.length];
        List<DsnBuilder.Entry> failed = new ArrayList<>();
        List<DsnBuilder.Entry> succeeded = new ArrayList<>();
        boolean anyPositive = false;
        for (int i = 0; i < rcpts.length; i++) {
            SmtpReply r = result.replies().get(i);
            EnvelopeRecord.Recipient rc = env.recipients().get(rcpts[i]);
            details[i] = hop == null ? r.oneLine() : hop + ": " + r.oneLine();
            if (r.positive()) {
                kinds[i] = OutcomeKind.DELIVERED;
                anyPositive = true;
                // RFC 3461 5.2.1/5.2.2: a next hop that took NOTIFY=SUCCESS reports delivery itself; to one that did
                // not, this relay reports the message relayed.
                if ((rc.notifyFlags() & Envelope.NOTIFY_SUCCESS) != 0 && !hopTakesDsn) {
                    succeeded.add(new DsnBuilder.Entry(rc, true, r, hop));
                }
            } else if (r.permanentFailure()) {
                kinds[i] = OutcomeKind.BOUNCED;
                if (wantsFailureReport(rc)) {
                    failed.add(new DsnBuilder.Entry(rc, false, r, hop));
                }
            } else if (retry.expired(env.receivedAtMillis(), now)) {
                kinds[i] = OutcomeKind.BOUNCED;
                SmtpReply expired = SmtpReply.local(r.code(), "4.4.7",
                        "message expired in the queue; last error: " + r.oneLine());
                details[i] = expired.oneLine();
                if (wantsFailureReport(rc)) {
                    failed.add(new DsnBuilder.Entry(rc, false, expired, hop));
                }
            } else {
                kinds[i] = OutcomeKind.DEFERRED;
            }
        }
        if (!failed.isEmpty() && !commitReport(env, m.bodyLength(), failed, now)) {
            // The DSN could not be stored: keep the recipients queued rather than bounce without telling anyone.
            for (int i = 0; i < kinds.length; i++) {
                if (kinds[i] == OutcomeKind.BOUNCED) {
                    kinds[i] = OutcomeKind.DEFERRED;
                    details[i] = "bounce pending (DSN not stored): " + details[i];
                }
            }
        }
        if (!succeeded.isEmpty()) {
            commitReport(env, m.bodyLength(), succeeded, now);
        }
        List<Outcome> outcomes = new ArrayList<>(rcpts.length);
        int[] again = new int[rcpts.length];
        int retries = 0;
        for (int i = 0; i < rcpts.length; i++) {
            if (!m.settle(rcpts[i], kinds[i])) {
                continue; // deleted meanwhile
            }
            boolean deferred = kinds[i] == OutcomeKind.DEFERRED;
            outcomes.add(new Outcome(m.queueId(), rcpts[i], kinds[i], now, deferred ? nextAttempt : 0, details[i]));
            switch (kinds[i]) {
                case DELIVERED -> d.delivered.increment();
                case BOUNCED -> d.bounced.increment();
                default -> {
                    d.deferred.increment();
                    again[retries++] = rcpts[i];
                }
            }
        }
        if (anyPositive) {
            d.succeeded();
        } else if (retries > 0) {
            d.failedTemporarily(result.serviceClosing(), settings.backoffAfter(), settings.backoff().toMillis(), now);
        }
        return new Settlement(job, hop, outcomes, retries == 0 ? NONE : Arrays.copyOf(again, retries), nextAttempt,
                flushEpoch);
    }

    /**
     * Journals the outcomes of one or more attempts in one record (one wait for the journal for a whole batch), then
     * schedules the retries, forgets finished messages and logs.
     */
    private void record(List<Settlement> settlements) {
        List<Outcome> all = settlements.size() == 1 ? settlements.getFirst().outcomes() : new ArrayList<>();
        if (settlements.size() > 1) {
            for (Settlement st : settlements) {
                all.addAll(st.outcomes());
            }
        }
        try {
            journal.record(all);
        } catch (JournalException e) {
            // Not durable: after a restart these recipients are delivered again (at least once).
            LOG.error("could not journal {} outcomes of {} message(s): {}", all.size(), settlements.size(),
                    e.getMessage());
        }
        for (Settlement st : settlements) {
            DeliveryJob job = st.job();
            MessageState m = job.message();
            if (st.again().length > 0 && running) {
                long due = flushes.get() != st.flushEpoch() ? System.currentTimeMillis() : st.nextAttempt();
                scheduled.add(new DeliveryJob(m, job.domain(), job.destination(), st.again(), job.attempts() + 1,
                        due));
            }
            if (m.done()) {
                messages.remove(m.queueId());
            }
            log(st);
        }
    }

    private static void log(Settlement st) {
        EnvelopeRecord env = st.job().message().envelope();
        for (Outcome o : st.outcomes()) {
            // One line per recipient and attempt, like Postfix's "status=" lines (operators trace mail by them);
            // never any message content. Laid out here and buffered, flushed every 100 ms (BufferedStderrAppender).
            LOG.info("{}: to=<{}>, relay={}, attempt={}, status={} ({})", QueueId.format(o.queueId()),
                    env.recipients().get(o.recipientIndex()).address(), st.hop() == null ? "none" : st.hop(),
                    st.job().attempts() + 1, o.kind(), o.detail());
        }
    }

    /** RFC 3461 4.1: without NOTIFY, failures are reported; NOTIFY=NEVER (or a list without FAILURE) silences them. */
    private static boolean wantsFailureReport(EnvelopeRecord.Recipient rc) {
        int n = rc.notifyFlags();
        return n == 0 || (n & Envelope.NOTIFY_FAILURE) != 0 && (n & Envelope.NOTIFY_NEVER) == 0;
    }

    /** Commits a DSN to the sender; true when it is durable (or none is due: a bounce is never bounced). */
    private boolean commitReport(EnvelopeRecord env, long bodyLength, List<DsnBuilder.Entry> entries, long now) {
        if (env.nullSender()) {
            // RFC 5321 4.5.5: a message with a null reverse-path never gets a DSN.
            LOG.info("not reporting on {} (null sender): {}", QueueId.format(env.queueId()),
                    entries.getFirst().reply().oneLine());
            return true;
        }
        try {
            DsnBuilder.Dsn report = dsn.build(env, bodyLength, entries, c -> journal.readBody(env.queueId(), c), now);
            try {
                journal.commit(report.envelope(), report.body());
            } finally {
                report.body().release();
            }
            LOG.info("DSN {} for {} committed", QueueId.format(report.envelope().queueId()),
                    QueueId.format(env.queueId()));
            return true;
        } catch (JournalException e) {
            LOG.warn("could not store the DSN for {}: {}", QueueId.format(env.queueId()), e.getMessage());
            return false;
        }
    }

    /** Retries every deferred recipient now and lifts every back-off ({@code tern queue flush}). */
    public void flush() {
        flushes.incrementAndGet();
        destinations.values().forEach(Destination::clearBackoff);
        List<DeliveryJob> waiting = new ArrayList<>();
        scheduled.drainTo(waiting);
        // drainTo only takes expired elements from a DelayQueue; take the rest one by one.
        for (DeliveryJob j : scheduled.toArray(new DeliveryJob[0])) {
            if (scheduled.remove(j)) {
                waiting.add(j);
            }
        }
        long now = System.currentTimeMillis();
        for (DeliveryJob j : waiting) {
            scheduled.add(j.at(now));
        }
    }

    /**
     * Journals a DELETED outcome for every recipient of {@code queueId} that is not final yet
     * ({@code tern queue delete}). Returns how many recipients were deleted (0: unknown or already done).
     */
    public int delete(long queueId) throws JournalException {
        MessageState m = messages.get(queueId);
        if (m == null) {
            Optional<QueuedMessage> q = journal.find(queueId);
            if (q.isEmpty()) {
                return 0;
            }
            m = new MessageState(q.get());
        }
        long now = System.currentTimeMillis();
        List<Outcome> outcomes = new ArrayList<>();
        for (int i : m.open()) {
            if (m.settle(i, OutcomeKind.DELETED)) {
                outcomes.add(new Outcome(queueId, i, OutcomeKind.DELETED, now, 0, "deleted by the operator"));
            }
        }
        journal.record(outcomes);
        messages.remove(queueId);
        return outcomes.size();
    }

    /** Per destination counters and state, sorted by name. */
    public Map<String, DestinationStats> stats() {
        Map<String, Integer> waiting = new ConcurrentHashMap<>();
        List<DeliveryJob> jobs = new ArrayList<>(scheduled);
        destinations.values().forEach(d -> jobs.addAll(d.ready));
        for (DeliveryJob j : jobs) {
            if (messages.containsKey(j.message().queueId())) { // a deleted message's job lingers until its time
                waiting.merge(j.destination(), 1, Integer::sum);
            }
        }
        Map<String, DestinationStats> out = new TreeMap<>();
        for (Destination d : destinations.values()) {
            out.put(d.name, new DestinationStats(d.name, waiting.getOrDefault(d.name, 0),
                    d.workers.get(), d.delivered.sum(), d.deferred.sum(), d.bounced.sum(), d.backoffUntil()));
        }
        waiting.forEach((name, n) -> out.putIfAbsent(name, new DestinationStats(name, n, 0, 0, 0, 0, 0)));
        return Collections.unmodifiableMap(out);
    }

    /** Pooled buffers currently in use (stuffing buffers, DSN bodies): 0 when idle; the tests' leak check. */
    int buffersOutstanding() {
        return pool.outstanding();
    }

    /** Messages with at least one recipient still open, as this engine sees them. */
    public int queuedMessages() {
        return messages.size();
    }

    /** Stops taking new jobs, waits briefly for transactions in flight, closes cached connections. */
    @Override
    public void close() {
        running = false;
        if (dispatcher != null) {
            dispatcher.interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Thread t : List.copyOf(workers)) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.join(java.time.Duration.ofNanos(left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        cache.close();
        sweeper.close();
    }
}

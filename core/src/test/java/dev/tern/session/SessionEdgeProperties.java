package dev.tern.session;

import dev.tern.buffer.BufferPool;
import dev.tern.config.Cidr;
import dev.tern.config.LineEndingPolicy;
import dev.tern.config.RelayConfig;
import dev.tern.config.SmtpSettings;
import dev.tern.journal.JournalException;
import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import dev.tern.message.MessageBody;
import dev.tern.testing.ForwardingJournal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The session's edges that {@link SessionModelProperties} leaves out, each checked on generated input against what the
 * RFCs (or, where they leave a choice, Tern's documentation) require:
 * <ul>
 * <li>SMTPUTF8 (RFC 6531 3.3-3.5, 3.7.3): UTF-8 in a MAIL or RCPT path only within a transaction whose MAIL carried
 *     SMTPUTF8, else 553 5.6.7; only well-formed UTF-8 (RFC 3629 4: no overlongs, surrogates, bare continuation or
 *     truncated sequences, nothing past U+10FFFF); path limits counted in octets (RFC 6531 3.3, RFC 5321 4.5.3.1);
 *     the journal keeps the addresses exactly; Received says "with UTF8SMTP" exactly when SMTPUTF8 was used, and is
 *     pure ASCII otherwise. Driven through {@link EngineDriver}.</li>
 * <li>Local failures (RFC 5321 4.2.5, 4.1.1.4; architecture.md "Any local failure ... answers 4xx, never 5xx, and the
 *     server keeps serving"): a journal commit that fails, a body-buffer pool that runs dry (in this session or
 *     because another session holds the buffers), command buffers exhausted at connect.</li>
 * <li>Timeouts (RFC 5321 4.5.3.2): through a real {@link SmtpServer} on loopback with short, generated command and
 *     data timeouts, a client stalled anywhere gets 421 4.4.2 no earlier than the timeout that applies and is
 *     closed; a client that keeps sending within the timeout is never cut off.</li>
 * <li>Early talkers (RFC 5321 3.1, 4.3.1; SmtpSettings#pregreetDelay): a client outside mynetworks that talks before
 *     the delayed 220 gets 554 5.5.1 and the connection closes; a patient one is greeted after the delay; mynetworks
 *     and a zero delay skip the test.</li>
 * <li>Connection limits (RFC 5321 3.8; ConnectionLimiter, Listener): generated opens and closes from several loopback
 *     addresses against a model of the total and per-client limits: extra connections get 421 4.7.0 at once, the
 *     admitted ones keep being served, and permits come back when sessions end.</li>
 * </ul>
 * jqwik prints the seed and the generated case on failure. The socket properties run a handful of tries with
 * timeouts of a few hundred milliseconds and shrink little or not at all (each try takes real time): the class runs
 * in about 6 seconds.
 */
class SessionEdgeProperties {

    private static final String GREETING = "220 tern.test ESMTP Tern";
    private static final String TIMEOUT_TEXT = "Timeout exceeded, closing connection";
    private static final String EARLY_TALKER = "554 5.5.1 Protocol error: client talked before greeting";
    private static final String TOO_MANY = "421 4.7.0 Too many connections, try again later";
    private static final String NO_RESOURCES = "421 4.3.2 Insufficient resources, try again later";
    /**
     * Slack for "not before the timeout": elapsed times are taken from just before the client's last send (or its
     * connect), which the server's deadline cannot precede; this only absorbs rounding to milliseconds.
     */
    private static final long EARLY_SLACK_MS = 2;
    /** How late a 421 may come after its timeout (sweeper period, scheduling on a busy 2-core machine). */
    private static final long LATE_SLACK_MS = 1500;

    static SmtpSettings engineSettings() {
        return new SmtpSettings(EngineDriver.HOST, 512, 100_000, 1000, 100, 100, 10, false, 1000, Duration.ZERO,
                Duration.ofMinutes(5), Duration.ofMinutes(3), LineEndingPolicy.REJECT);
    }

    // ============================================================================================ SMTPUTF8

    /** An address as sent (octets, one char each) with what the journal must keep, if it is acceptable. */
    record Addr(String wire, String stored, boolean utf8, boolean wellFormed) {
        @Override
        public String toString() {
            return "<" + SessionModelProperties.escape(printable(wire)) + ">";
        }
    }

    /** MAIL parameters: RFC 6531 3.4 SMTPUTF8 (no value, once), with and without BODY=8BITMIME (RFC 6152). */
    enum MailParam {
        NONE("", false, false),
        SMTPUTF8(" SMTPUTF8", true, false),
        LOWER(" smtputf8", true, false), // RFC 5321 2.4: keywords are case-insensitive
        BODY_FIRST(" BODY=8BITMIME SMTPUTF8", true, false),
        BODY_AFTER(" SMTPUTF8 BODY=8BITMIME", true, false),
        WITH_VALUE(" SMTPUTF8=YES", false, true), // RFC 6531 3.4: the parameter takes no value
        TWICE(" SMTPUTF8 SMTPUTF8", false, true); // RFC 5321 4.1.1.11 / 6531: a parameter once per command

        final String text;
        final boolean utf8;
        final boolean bad;

        MailParam(String text, boolean utf8, boolean bad) {
            this.text = text;
            this.utf8 = utf8;
            this.bad = bad;
        }
    }

    enum End { DATA, BDAT, RSET }

    record Tx(Addr sender, MailParam param, List<Addr> rcpts, End end, String subject) {
    }

    private static final List<String> ASCII_LOCALS = List.of("alice", "bob.smith", "x_y+tag", "\"a b\"");
    private static final List<String> UTF8_LOCALS = List.of("jörg", "用户", "δοκιμή", "пользователь", "😀",
            "ñandú.test", "\"jörg müller\"", "é".repeat(32)); // the last is 64 octets: at the limit
    /** Over RFC 5321 4.5.3.1.1's 64 octets though not 64 characters (RFC 6531 3.3: limits are in octets). */
    private static final List<String> LONG_LOCALS = List.of("é".repeat(33), "用".repeat(22));
    private static final List<String> ASCII_DOMAINS = List.of("example.org", "sub.example.com",
            "xn--bcher-kva.example", "[192.0.2.9]");
    private static final List<String> UTF8_DOMAINS = List.of("bücher.example", "例え.jp", "пример.рф");

    /** Octet sequences that are not UTF-8 (RFC 3629 3, 4; its section 10 on overlongs and surrogates). */
    private static final List<int[]> MALFORMED = List.of(
            new int[] {0xC0, 0xAF}, new int[] {0xC1, 0x81}, // overlong 2-octet forms
            new int[] {0xE0, 0x80, 0xAF}, new int[] {0xE0, 0x9F, 0xBF}, // overlong 3-octet forms
            new int[] {0xF0, 0x80, 0x80, 0xAF}, new int[] {0xF0, 0x8F, 0xBF, 0xBF}, // overlong 4-octet forms
            new int[] {0xED, 0xA0, 0x80}, new int[] {0xED, 0xAF, 0xBF}, // high surrogates
            new int[] {0xED, 0xB0, 0x80}, new int[] {0xED, 0xBF, 0xBF}, // low surrogates
            new int[] {0x80}, new int[] {0xBF}, new int[] {0x80, 0x80}, // bare continuation octets
            new int[] {0xC3, 0xA9, 0xA9}, // a continuation octet after a complete character
            new int[] {0xC3}, new int[] {0xE6, 0x97}, new int[] {0xF0, 0x9F, 0x98}, // truncated sequences
            new int[] {0xF4, 0x90, 0x80, 0x80}, new int[] {0xF5, 0x80, 0x80, 0x80}, // past U+10FFFF
            new int[] {0xF8, 0x88, 0x80, 0x80, 0x80}, new int[] {0xFE}, new int[] {0xFF});

    /**
     * Sessions of one to five transactions, each with a sender and recipients from every class of address (ASCII,
     * UTF-8, over-long in octets, malformed UTF-8), with or without SMTPUTF8, ending in DATA, BDAT or RSET; after
     * EHLO or (rarely) HELO; one command at a time or pipelined. Each reply is checked against the RFC 6531 model,
     * then the journal against the transactions the model accepted.
     */
    @Property(tries = 250)
    void utf8AddressesNeedSmtputf8AndAreStoredExactly(@ForAll("utf8Sessions") List<Tx> session,
                                                      @ForAll("ehlo") boolean ehlo, @ForAll boolean pipelined) {
        MemoryJournal journal = new MemoryJournal();
        BufferPool pool = new BufferPool(1024, 16, 0);
        StringBuilder transcript = new StringBuilder();
        List<Tx> acceptedTx = new ArrayList<>();
        List<List<Addr>> acceptedRcpts = new ArrayList<>();
        List<Boolean> acceptedUtf8 = new ArrayList<>();
        try (EngineDriver d = new EngineDriver(engineSettings(), journal, pool, true)) {
            Checker c = new Checker(d, transcript);
            c.expectOne(d.greet(), 220);
            R hello = c.one(ehlo ? "EHLO client.example\r\n" : "HELO client.example\r\n");
            c.check(hello.code() == 250, "greeting " + hello);
            if (ehlo) {
                // RFC 6531 3.2: the extension is advertised in the EHLO reply.
                c.check(hello.text().contains("250-SMTPUTF8"), "EHLO does not advertise SMTPUTF8: " + hello);
            }
            for (Tx tx : session) {
                List<String> lines = new ArrayList<>();
                lines.add("MAIL FROM:<" + tx.sender().wire() + ">" + tx.param().text + "\r\n");
                for (Addr a : tx.rcpts()) {
                    lines.add("RCPT TO:<" + a.wire() + ">\r\n");
                }
                String content = content(tx);
                switch (tx.end()) {
                    case DATA -> lines.add("DATA\r\n");
                    case BDAT -> lines.add("BDAT " + content.length() + " LAST\r\n" + content);
                    case RSET -> lines.add("RSET\r\n");
                }
                List<R> replies = c.exchange(lines, pipelined);
                // MAIL (RFC 5321 4.1.1.2, RFC 6531 3.4, 3.5).
                R mail = replies.get(0);
                Set<Integer> allowed;
                boolean exact553 = false;
                if (tx.param().bad) {
                    allowed = tx.sender().wellFormed() ? Set.of(501, 555) : Set.of(501, 553, 555);
                } else if (!tx.sender().wellFormed()) {
                    allowed = Set.of(501, 553); // 4.1.2 syntax / RFC 3629 4 / 4.5.3.1 limits: "mailbox not allowed"
                } else if (tx.sender().utf8() && !tx.param().utf8) {
                    allowed = Set.of(553);
                    exact553 = true;
                } else if (tx.param().utf8 && !ehlo) {
                    // RFC 5321 2.2.1: extensions are in force only after EHLO; the server may refuse or accept.
                    allowed = Set.of(250, 501, 504, 555);
                } else {
                    allowed = Set.of(250);
                }
                c.expect("MAIL", mail, allowed);
                if (exact553) {
                    c.utf8Refusal(mail, ehlo);
                }
                boolean open = mail.code() == 250;
                boolean txUtf8 = open && tx.param().utf8;
                List<Addr> rcpts = new ArrayList<>();
                for (int i = 0; i < tx.rcpts().size(); i++) {
                    Addr a = tx.rcpts().get(i);
                    R r = replies.get(1 + i);
                    if (!open) {
                        // 4.1.4: RCPT needs a MAIL (503); a path error may be reported first (either is allowed).
                        Set<Integer> refuse = new TreeSet<>(Set.of(503));
                        if (!a.wellFormed() || a.utf8()) {
                            refuse.addAll(Set.of(501, 553));
                        }
                        c.expect("RCPT", r, refuse);
                    } else if (!a.wellFormed()) {
                        c.expect("RCPT", r, Set.of(501, 553));
                    } else if (a.utf8() && !txUtf8) {
                        // RFC 6531 3.4: UTF-8 only within a transaction whose MAIL had SMTPUTF8; 3.5: 553 5.6.7.
                        c.expect("RCPT", r, Set.of(553));
                        c.utf8Refusal(r, ehlo);
                    } else {
                        c.expect("RCPT", r, Set.of(250));
                        rcpts.add(a);
                    }
                }
                R last = replies.get(1 + tx.rcpts().size());
                switch (tx.end()) {
                    case RSET -> c.expect("RSET", last, Set.of(250));
                    case DATA, BDAT -> {
                        if (!open) {
                            c.expect(tx.end().name(), last, Set.of(503));
                        } else if (rcpts.isEmpty()) {
                            c.expect(tx.end().name(), last, Set.of(503, 554)); // RFC 5321 3.3
                            // A refused DATA leaves the transaction open (3.3 only forbids sending the data): the
                            // client resets it, as clients do, so the next MAIL is not a nested one.
                            c.expect("RSET", c.one("RSET\r\n"), Set.of(250));
                        } else {
                            R end = last;
                            if (tx.end() == End.DATA) {
                                c.expect("DATA", last, Set.of(354));
                                end = c.one(content + ".\r\n");
                            }
                            c.expect("end of data", end, Set.of(250));
                            acceptedTx.add(tx);
                            acceptedRcpts.add(rcpts);
                            acceptedUtf8.add(txUtf8);
                        }
                    }
                }
            }
            c.expectOne(c.sendAll("QUIT\r\n"), 221);
            checkUtf8Journal(journal, acceptedTx, acceptedRcpts, acceptedUtf8, ehlo, c);
        }
        if (pool.outstanding() != 0) {
            throw new AssertionError(pool.outstanding() + " body buffers not returned\n" + transcript);
        }
    }

    private static void checkUtf8Journal(MemoryJournal journal, List<Tx> txs, List<List<Addr>> rcpts,
                                         List<Boolean> utf8, boolean ehlo, Checker c) {
        List<MemoryJournal.Stored> stored = journal.stored();
        c.check(stored.size() == txs.size(), "journal holds " + stored.size() + " messages, model " + txs.size());
        for (int i = 0; i < stored.size(); i++) {
            EnvelopeRecord e = stored.get(i).envelope();
            List<String> expectRcpts = rcpts.get(i).stream().map(Addr::stored).toList();
            List<String> actualRcpts = e.recipients().stream().map(EnvelopeRecord.Recipient::address).toList();
            c.check(e.sender().equals(txs.get(i).sender().stored()),
                    "message " + i + " sender " + e.sender() + " != " + txs.get(i).sender().stored());
            c.check(actualRcpts.equals(expectRcpts), "message " + i + " recipients " + actualRcpts + " != "
                    + expectRcpts);
            c.check(e.smtputf8() == utf8.get(i), "message " + i + " smtputf8 flag " + e.smtputf8());
            String body = new String(stored.get(i).body(), StandardCharsets.ISO_8859_1); // octets, as sent
            String content = content(txs.get(i));
            c.check(body.endsWith(content), "message " + i + " content changed: " + body);
            String head = body.substring(0, body.length() - content.length());
            // RFC 6531 3.7.3 (and RFC 3848): "with UTF8SMTP" when SMTPUTF8 was used, else ESMTP (SMTP after HELO).
            String with;
            if (!ehlo) {
                with = utf8.get(i) ? "(SMTP|UTF8SMTP)" : "SMTP";
            } else {
                with = utf8.get(i) ? "UTF8SMTP" : "ESMTP";
            }
            c.check(head.matches("(?s)Received: from .* with " + with + " id [0-9A-F]{16}[;\\r].*"),
                    "message " + i + " Received 'with' is not " + with + ": " + head);
            if (!utf8.get(i)) {
                // A message that is not SMTPUTF8 must not get 8-bit header text from us (RFC 6531 3.7.3, 5322 2.2).
                c.check(head.chars().allMatch(ch -> ch < 0x80), "8-bit Received in a non-SMTPUTF8 message: " + head);
            }
            if (expectRcpts.size() == 1) {
                // The single recipient, as received (ReceivedHeader#putSanitized turns a space into '?').
                String forClause = "\tfor <" + iso(expectRcpts.get(0)).replace(' ', '?') + ">;";
                c.check(head.contains(forClause), "message " + i + " Received lacks " + forClause + ": " + head);
            }
        }
    }

    private static String content(Tx tx) {
        // UTF-8 header text only in SMTPUTF8 mail (RFC 6532 3); content is opaque to the relay either way.
        String subject = tx.param().utf8 ? tx.subject() : "plain";
        return iso("Subject: " + subject + "\r\n\r\nhello\r\n");
    }

    @Provide
    Arbitrary<Boolean> ehlo() {
        return Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(true)), Tuple.of(1, Arbitraries.just(false)));
    }

    @Provide
    Arbitrary<List<Tx>> utf8Sessions() {
        Arbitrary<Addr> sender = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(new Addr("", "", false, true))), // the null reverse-path
                Tuple.of(8, addresses()));
        Arbitrary<MailParam> param = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(MailParam.NONE)),
                Tuple.of(6, Arbitraries.of(MailParam.SMTPUTF8, MailParam.LOWER, MailParam.BODY_FIRST,
                        MailParam.BODY_AFTER)),
                Tuple.of(1, Arbitraries.of(MailParam.WITH_VALUE, MailParam.TWICE)));
        Arbitrary<End> end = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(End.DATA)),
                Tuple.of(3, Arbitraries.just(End.BDAT)), Tuple.of(1, Arbitraries.just(End.RSET)));
        Arbitrary<String> subject = Arbitraries.of("héllo wörld", "日本語の件名", "plain");
        Arbitrary<Tx> tx = Combinators.combine(sender, param, addresses().list().ofMinSize(1).ofMaxSize(3), end,
                subject).as(Tx::new);
        return tx.list().ofMinSize(1).ofMaxSize(5);
    }

    /** Addresses of every class: ASCII, UTF-8 local part and/or domain, too long in octets, malformed UTF-8. */
    @Provide
    Arbitrary<Addr> addresses() {
        List<String> locals = new ArrayList<>(ASCII_LOCALS);
        locals.addAll(UTF8_LOCALS);
        locals.addAll(LONG_LOCALS);
        List<String> domains = new ArrayList<>(ASCII_DOMAINS);
        domains.addAll(UTF8_DOMAINS);
        Arbitrary<Addr> plain = Combinators.combine(Arbitraries.of(locals), Arbitraries.of(domains))
                .as(SessionEdgeProperties::addr);
        Arbitrary<Addr> broken = Combinators.combine(Arbitraries.of(MALFORMED), Arbitraries.of(true, false),
                Arbitraries.of("jö", "ab", "用"), Arbitraries.of("rg", "cd", "")).as((bad, inLocal, pre, post) -> {
                    String octets = new String(bytes(bad), StandardCharsets.ISO_8859_1);
                    String wire = inLocal ? iso(pre) + octets + iso(post) + "@example.org"
                            : "alice@" + iso("bü") + octets + iso("cher") + ".example";
                    return new Addr(wire, null, true, false);
                });
        return Arbitraries.frequencyOf(Tuple.of(6, plain), Tuple.of(2, broken));
    }

    private static Addr addr(String local, String domain) {
        String address = local + "@" + domain;
        boolean utf8 = address.chars().anyMatch(ch -> ch >= 0x80);
        boolean fits = local.getBytes(StandardCharsets.UTF_8).length <= 64; // RFC 5321 4.5.3.1.1, in octets
        return new Addr(iso(address), fits ? address : null, utf8, fits);
    }

    // ============================================================================================ local failures

    enum Failure { NONE, JOURNAL_EXCEPTION, UNCHECKED_IO, ILLEGAL_STATE }

    enum Transfer { DATA, BDAT_ONE, BDAT_TWO }

    record Attempt(Failure failure, Transfer transfer, int rcpts, int lines, boolean probe) {
    }

    /**
     * A journal that refuses commits (as a full disk or an unwritable directory does) must never make the client
     * give up: the end of data gets 451 (or 452), never 5xx (RFC 5321 4.2.5: a local error is transient), the
     * transaction is over either way (4.1.1.4: the buffers are cleared, so a RCPT now gets 503), no body buffer is
     * left held, and the next transaction on the same session is stored.
     */
    @Property(tries = 200)
    void journalFailureIs4xxAndTheSessionServesTheNextTransaction(@ForAll("attempts") List<Attempt> attempts,
                                                                  @ForAll boolean pipelined) {
        FailingJournal journal = new FailingJournal();
        attempts.forEach(a -> journal.plan.add(a.failure()));
        BufferPool pool = new BufferPool(1024, 16, 0);
        StringBuilder transcript = new StringBuilder();
        List<String> expected = new ArrayList<>();
        try (EngineDriver d = new EngineDriver(engineSettings(), journal, pool, true)) {
            Checker c = new Checker(d, transcript);
            c.expectOne(d.greet(), 220);
            c.expectOne(c.sendAll("EHLO client.example\r\n"), 250);
            int failures = 0;
            for (Attempt a : attempts) {
                String content = "Subject: attempt\r\n\r\n" + "line of content\r\n".repeat(a.lines());
                List<String> lines = new ArrayList<>();
                lines.add("MAIL FROM:<s@example.org>\r\n");
                for (int i = 0; i < a.rcpts(); i++) {
                    lines.add("RCPT TO:<r" + i + "@example.net>\r\n");
                }
                String probe = a.probe() ? "RCPT TO:<late@example.net>\r\n" : "";
                switch (a.transfer()) {
                    case DATA -> lines.add("DATA\r\n");
                    case BDAT_ONE -> lines.add("BDAT " + content.length() + " LAST\r\n" + content);
                    case BDAT_TWO -> {
                        int half = content.length() / 2;
                        lines.add("BDAT " + half + "\r\n" + content.substring(0, half));
                        lines.add("BDAT " + (content.length() - half) + " LAST\r\n" + content.substring(half));
                    }
                }
                if (a.transfer() != Transfer.DATA && !probe.isEmpty()) {
                    lines.add(probe);
                }
                List<R> replies = c.exchange(lines, pipelined);
                for (int i = 0; i <= a.rcpts(); i++) {
                    c.expect("MAIL/RCPT", replies.get(i), Set.of(250));
                }
                R end;
                R probeReply = null;
                if (a.transfer() == Transfer.DATA) {
                    c.expect("DATA", replies.get(a.rcpts() + 1), Set.of(354));
                    // RFC 2920 3.1: commands may follow the end of data in the same batch.
                    List<R> after = c.replies(content + ".\r\n" + (pipelined ? probe : ""));
                    end = after.get(0);
                    if (a.probe()) {
                        probeReply = pipelined ? after.get(1) : c.one(probe);
                    }
                } else {
                    int at = a.rcpts() + 1;
                    if (a.transfer() == Transfer.BDAT_TWO) {
                        c.expect("BDAT chunk", replies.get(at++), Set.of(250));
                    }
                    end = replies.get(at++);
                    if (a.probe()) {
                        probeReply = replies.get(at);
                    }
                }
                if (a.failure() == Failure.NONE) {
                    c.expect("end of data", end, Set.of(250));
                    expected.add(content);
                } else {
                    // 451 4.3.0 is Tern's (Replies.LOCAL_ERROR); 452 would also be a fair local-storage answer.
                    c.expect("end of data with a failing journal", end, Set.of(451, 452));
                    c.check(end.text().startsWith(end.code() + " 4."), "enhanced code of " + end);
                    failures++;
                }
                if (probeReply != null) {
                    c.expect("RCPT after the end of data", probeReply, Set.of(503));
                }
                c.check(pool.outstanding() == 0, pool.outstanding() + " body buffers held after the reply");
            }
            c.expect("NOOP", c.one("NOOP\r\n"), Set.of(250));
            c.check(d.counters.snapshot().rejections(RejectReason.LOCAL_ERROR) == failures,
                    "LOCAL_ERROR count " + d.counters.snapshot().rejections(RejectReason.LOCAL_ERROR));
            List<String> stored = journal.memory.stored().stream().map(MemoryJournal.Stored::bodyText).toList();
            c.check(stored.size() == expected.size(), "journal holds " + stored.size() + ", expected "
                    + expected.size());
            for (int i = 0; i < stored.size(); i++) {
                c.check(stored.get(i).endsWith(expected.get(i)), "message " + i + " content: " + stored.get(i));
            }
        }
        if (pool.outstanding() != 0) {
            throw new AssertionError(pool.outstanding() + " body buffers not returned\n" + transcript);
        }
    }

    @Provide
    Arbitrary<List<Attempt>> attempts() {
        Arbitrary<Failure> failure = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(Failure.NONE)),
                Tuple.of(3, Arbitraries.of(Failure.JOURNAL_EXCEPTION, Failure.UNCHECKED_IO, Failure.ILLEGAL_STATE)));
        return Combinators.combine(failure, Arbitraries.of(Transfer.class), Arbitraries.integers().between(1, 3),
                Arbitraries.integers().between(0, 20), Arbitraries.of(true, false)).as(Attempt::new)
                .list().ofMinSize(1).ofMaxSize(5);
    }

    /**
     * Body buffers are a bounded pool shared by all sessions (SmtpSettings#bodyBufferMemory). When a message does
     * not fit in what is free, whether because it is large or because another session holds the buffers, it gets
     * a 4xx (452 4.3.1; at DATA/BDAT if not even the trace header fits, else at the end of data), never a 5xx; the
     * other session's message is unharmed; both sessions then go on to store mail.
     */
    @Property(tries = 200)
    void exhaustedBodyPoolIs4xxAndBothSessionsGoOn(@ForAll @IntRange(min = 2, max = 12) int chunks,
                                                   @ForAll @IntRange(min = -1, max = 30) int otherHoldsLines,
                                                   @ForAll @IntRange(min = 0, max = 40) int lines,
                                                   @ForAll boolean bdat) {
        final int chunk = 256;
        BufferPool pool = new BufferPool(chunk, chunks, 0);
        MemoryJournal journal = new MemoryJournal();
        StringBuilder transcript = new StringBuilder();
        String line = "a".repeat(78) + "\r\n";
        // The other session holds what its partial content needs; it is kept small enough that it must fit.
        int held = Math.min(otherHoldsLines, (chunks * chunk - 200 - chunk) / line.length());
        try (EngineDriver other = new EngineDriver(engineSettings(), journal, pool, true);
             EngineDriver d = new EngineDriver(engineSettings(), journal, pool, true)) {
            Checker o = new Checker(other, transcript.append("[other]\n"));
            Checker c = new Checker(d, transcript);
            String otherContent = line.repeat(Math.max(held, 0)) + "tail of the other message\r\n";
            if (held >= 0) {
                o.expectOne(other.greet(), 220);
                o.expectOne(o.sendAll("EHLO other.example\r\n"), 250);
                List<R> r = o.exchange(List.of("MAIL FROM:<o@example.org>\r\n", "RCPT TO:<p@example.net>\r\n",
                        "DATA\r\n"), true);
                o.expect("DATA", r.get(2), Set.of(354));
                o.check(o.replies(line.repeat(held)).isEmpty(), "a reply in the middle of content");
            }
            int free = chunks - pool.outstanding();
            int capacity = free * chunk;
            String content = line.repeat(lines);
            c.expectOne(d.greet(), 220);
            c.expectOne(c.sendAll("EHLO client.example\r\n"), 250);
            List<String> cmds = new ArrayList<>(List.of("MAIL FROM:<s@example.org>\r\n", "RCPT TO:<r@example.net>\r\n",
                    bdat ? "BDAT " + content.length() + " LAST\r\n" + content : "DATA\r\n"));
            List<R> r = c.exchange(cmds, true);
            R end = r.get(2);
            if (!bdat && free > 0) {
                c.expect("DATA", end, Set.of(354));
                end = c.one(content + ".\r\n");
            }
            // The trace header is 120-200 octets; a chunk more may be taken just as the content ends.
            Set<Integer> allowed;
            if (free == 0 || 120 + content.length() > capacity) {
                allowed = Set.of(451, 452);
            } else if (200 + content.length() + chunk <= capacity) {
                allowed = Set.of(250);
            } else {
                allowed = Set.of(250, 451, 452);
            }
            c.expect("message with " + free + " free chunks", end, allowed);
            if (end.code() != 250) {
                c.check(end.text().startsWith(end.code() + " 4."), "enhanced code of " + end);
                c.expect("RSET", c.one("RSET\r\n"), Set.of(250)); // the client's usual step after a 4xx
            }
            int storedBefore = journal.stored().size();
            if (held >= 0) {
                o.expect("the other session's end of data", o.one("tail of the other message\r\n.\r\n"),
                        Set.of(250));
                String body = journal.stored().getLast().bodyText();
                o.check(body.endsWith(otherContent), "the other session's message changed: " + body);
            }
            // Both sessions keep serving: a small message each.
            c.expect("next MAIL", c.one("MAIL FROM:<s@example.org>\r\n"), Set.of(250));
            c.expect("next RCPT", c.one("RCPT TO:<r@example.net>\r\n"), Set.of(250));
            c.expect("next DATA", c.one("DATA\r\n"), Set.of(354));
            c.expect("next message", c.one("small\r\n.\r\n"), Set.of(250));
            c.check(journal.stored().size() == storedBefore + (held >= 0 ? 2 : 1), "stored " + journal.stored().size());
        }
        if (pool.outstanding() != 0) {
            throw new AssertionError(pool.outstanding() + " body buffers not returned\n" + transcript);
        }
    }

    /**
     * Command buffers exhausted at connect are a local failure too: the connection is told 421 4.3.2 (RFC 5321 3.8,
     * 4.2.5: transient) and closed, the sessions that have buffers go on, and a new connection is served once one
     * of them ends.
     */
    @Property(tries = 4, shrinking = ShrinkingMode.OFF)
    void exhaustedCommandBuffersAtConnectGive421(@ForAll @IntRange(min = 1, max = 3) int sessions)
            throws IOException {
        MemoryJournal journal = new MemoryJournal();
        SmtpSettings s = TestConfigs.smtp();
        BufferPool commands = new BufferPool(SmtpServer.commandBufferSize(s), 2 * sessions, 0);
        BufferPool bodies = new BufferPool(SmtpServer.BODY_CHUNK, 4, 0);
        SmtpServer server = SmtpServer.start(TestConfigs.relay(s), journal, commands, bodies);
        List<Wire> open = new ArrayList<>();
        try {
            for (int i = 0; i < sessions; i++) {
                Wire w = new Wire(server.localAddress(), "127.0.0.1");
                open.add(w);
                expectEquals(w.reply(), GREETING, "session " + i);
            }
            try (Wire extra = new Wire(server.localAddress(), "127.0.0.1")) {
                expectEquals(extra.reply(), NO_RESOURCES, "connection beyond the command buffers");
                check(extra.closedByServer(2000), "the refused connection is closed");
            }
            for (Wire w : open) {
                expectEquals(w.send("NOOP\r\n").reply(), "250 Ok", "an admitted session still serves");
            }
            open.removeFirst().close();
            awaitOpen(server, sessions - 1);
            try (Wire again = new Wire(server.localAddress(), "127.0.0.1")) {
                expectEquals(again.reply(), GREETING, "a connection after a session ended");
            }
            check(server.stats().rejections(RejectReason.LOCAL_ERROR) == 1, "LOCAL_ERROR counted once");
        } finally {
            closeAll(open);
            server.close();
        }
        check(server.outstandingBuffers() == 0, "buffers outstanding after close: " + server.outstandingBuffers());
    }

    /** Commits pass to a {@link MemoryJournal} or fail as planned, one planned outcome per commit. */
    static final class FailingJournal extends ForwardingJournal {
        final MemoryJournal memory;
        final Deque<Failure> plan = new ArrayDeque<>();

        FailingJournal() {
            this(new MemoryJournal());
        }

        private FailingJournal(MemoryJournal memory) {
            super(memory);
            this.memory = memory;
        }

        @Override
        public void commit(Envelope envelope, MessageBody body) throws JournalException {
            Failure f = plan.isEmpty() ? Failure.NONE : plan.removeFirst();
            switch (f) {
                case NONE -> memory.commit(envelope, body);
                case JOURNAL_EXCEPTION -> throw new JournalException("No space left on device (simulated)");
                case UNCHECKED_IO -> throw new UncheckedIOException(new IOException("I/O error (simulated)"));
                case ILLEGAL_STATE -> throw new IllegalStateException("journal writer stopped (simulated)");
            }
        }
    }

    // ============================================================================================ timeouts

    /** Where the client stops; {@code data} when the data timeout applies (RFC 5321 4.5.3.2.5), else 4.5.3.2.7. */
    enum Stall {
        AFTER_GREETING(false, false),
        AFTER_HELO(false, false),
        AFTER_EHLO(false, true),
        PARTIAL_COMMAND(false, true),
        IN_TRANSACTION(false, true),
        AFTER_BDAT_CHUNK(false, true), // a complete chunk: the next BDAT is a command
        AFTER_354(true, true),
        REFUSED_BDAT_CHUNK(true, true), // a chunk refused (no MAIL) is still read (RFC 3030 2): content timing
        PARTIAL_DATA_LINE(true, true),
        PARTIAL_BDAT_CHUNK(true, true);

        final boolean data;
        final boolean ehlo;

        Stall(boolean data, boolean ehlo) {
            this.data = data;
            this.ehlo = ehlo;
        }
    }

    /**
     * A client that stops sending gets 421 (RFC 5321 4.5.3.2: a server should time out and close; 3.8 and 4.2.5:
     * 421 with 4.4.2), never before the timeout that applies where it stopped (the data timeout inside DATA or BDAT
     * content, the command timeout elsewhere), and is then disconnected; the stalled transaction is not stored, a
     * message completed earlier in the session is.
     */
    @Property(tries = 12, shrinking = ShrinkingMode.OFF)
    void stalledClientGets421AtItsTimeoutAndIsClosed(@ForAll Stall stall,
                                                    @ForAll @IntRange(min = 100, max = 300) int commandMs,
                                                    @ForAll @IntRange(min = 100, max = 300) int dataMs,
                                                    @ForAll boolean messageFirst) throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ZERO, Duration.ofMillis(commandMs),
                Duration.ofMillis(dataMs));
        MemoryJournal journal = new MemoryJournal();
        SmtpServer server = SmtpServer.start(TestConfigs.relay(s), journal);
        boolean stored = messageFirst && stall.ehlo && stall != Stall.AFTER_EHLO;
        try (Wire w = new Wire(server.localAddress(), "127.0.0.1")) {
            expectEquals(w.reply(), GREETING, "greeting");
            if (stall == Stall.AFTER_HELO) {
                expectStarts(w.send("HELO client.example\r\n").reply(), "250 ", "HELO");
            } else if (stall.ehlo) {
                expectStarts(w.send("EHLO client.example\r\n").reply(), "250-", "EHLO");
            }
            if (stored) {
                w.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
                expectStarts(w.reply(), "250 ", "MAIL");
                expectStarts(w.reply(), "250 ", "RCPT");
                expectStarts(w.reply(), "354 ", "DATA");
                expectStarts(w.send("first\r\n.\r\n").reply(), "250 2.0.0 Ok: queued as", "first message");
            }
            String tx = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n";
            switch (stall) {
                case PARTIAL_COMMAND -> w.send("MAIL FROM:<a@exam");
                case IN_TRANSACTION -> {
                    w.send(tx);
                    expectStarts(w.reply(), "250 ", "MAIL");
                    expectStarts(w.reply(), "250 ", "RCPT");
                }
                case AFTER_BDAT_CHUNK, PARTIAL_BDAT_CHUNK -> {
                    w.send(tx + "BDAT 20\r\n" + (stall == Stall.AFTER_BDAT_CHUNK ? "012345678901234567\r\n" : "01234"));
                    expectStarts(w.reply(), "250 ", "MAIL");
                    expectStarts(w.reply(), "250 ", "RCPT");
                    if (stall == Stall.AFTER_BDAT_CHUNK) {
                        expectStarts(w.reply(), "250 ", "BDAT chunk");
                    }
                }
                case REFUSED_BDAT_CHUNK -> {
                    w.send("BDAT 20\r\n01234");
                }
                case AFTER_354, PARTIAL_DATA_LINE -> {
                    w.send(tx + "DATA\r\n");
                    expectStarts(w.reply(), "250 ", "MAIL");
                    expectStarts(w.reply(), "250 ", "RCPT");
                    expectStarts(w.reply(), "354 ", "DATA");
                    if (stall == Stall.PARTIAL_DATA_LINE) {
                        w.send("Subject: stalled\r\n\r\nhalf a li");
                    }
                }
                default -> {
                    // AFTER_GREETING, AFTER_HELO, AFTER_EHLO: nothing more
                }
            }
            long timeout = stall.data ? dataMs : commandMs;
            String reply = w.reply();
            // From just before the client's last send: the server's deadline cannot start earlier than that.
            long elapsed = w.millisSinceLastSend();
            String what = stall + " command=" + commandMs + "ms data=" + dataMs + "ms: ";
            // Enhanced codes only after EHLO (RFC 2034 3); Tern then sends 4.4.2 (RFC 3463 4.4.2).
            String expect = stall.ehlo ? "421 4.4.2 " + TIMEOUT_TEXT : "421 " + TIMEOUT_TEXT;
            check(expect.equals(reply) || (!stall.ehlo && ("421 4.4.2 " + TIMEOUT_TEXT).equals(reply)),
                    what + "reply " + reply + ", expected " + expect);
            check(elapsed >= timeout - EARLY_SLACK_MS, what + "421 after " + elapsed + " ms, before the timeout");
            check(elapsed <= timeout + LATE_SLACK_MS, what + "421 only after " + elapsed + " ms");
            check(w.closedByServer(2000), what + "connection still open after the 421");
        } finally {
            server.close();
        }
        check(journal.stored().size() == (stored ? 1 : 0), stall + ": stored " + journal.stored().size());
        check(server.stats().rejections(RejectReason.TIMEOUT) == 1, stall + ": TIMEOUT not counted once");
        check(server.outstandingBuffers() == 0, "buffers outstanding after close: " + server.outstandingBuffers());
    }

    /**
     * The timeouts are per read (RFC 5321 4.5.3.2.5 "Data Block", 4.5.3.2.7 per command): a client whose pauses
     * stay under the timeout is served however long it takes in total, in commands and in DATA content alike.
     */
    @Property(tries = 3, shrinking = ShrinkingMode.OFF)
    void clientPausingUnderTheTimeoutIsNeverCutOff(@ForAll @IntRange(min = 150, max = 250) int timeoutMs,
                                                   @ForAll @IntRange(min = 3, max = 4) int pieces) throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ZERO, Duration.ofMillis(timeoutMs),
                Duration.ofMillis(timeoutMs));
        MemoryJournal journal = new MemoryJournal();
        SmtpServer server = SmtpServer.start(TestConfigs.relay(s), journal);
        long pause = timeoutMs * 4L / 10;
        try (Wire w = new Wire(server.localAddress(), "127.0.0.1")) {
            expectEquals(w.reply(), GREETING, "greeting");
            expectStarts(w.send("EHLO client.example\r\n").reply(), "250-", "EHLO");
            for (int i = 0; i < pieces; i++) {
                sleep(pause);
                expectStarts(w.send("NOOP\r\n").reply(), "250 ", "NOOP " + i + " after a pause of " + pause);
            }
            w.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            expectStarts(w.reply(), "250 ", "MAIL");
            expectStarts(w.reply(), "250 ", "RCPT");
            expectStarts(w.reply(), "354 ", "DATA");
            StringBuilder content = new StringBuilder();
            for (int i = 0; i < pieces; i++) {
                sleep(pause);
                String piece = "piece " + i + (i % 2 == 0 ? " of a line" : " ends\r\n");
                content.append(piece);
                w.send(piece);
            }
            sleep(pause);
            expectStarts(w.send("\r\n.\r\n").reply(), "250 2.0.0 Ok: queued as", "slow message, pause " + pause);
            check(journal.stored().getFirst().bodyText().endsWith(content + "\r\n"), "slow message content");
        } finally {
            server.close();
        }
        check(server.stats().rejections(RejectReason.TIMEOUT) == 0, "a timeout was counted");
    }

    // ============================================================================================ early talkers

    enum Talk { IMMEDIATELY, HALFWAY, AFTER_GREETING }

    /**
     * RFC 5321 3.1: the client waits for the 220. With a pre-greeting delay (SmtpSettings#pregreetDelay, Postfix
     * postscreen's pregreet test) a client outside mynetworks that sends anything before the 220 gets
     * "554 5.5.1 Protocol error: client talked before greeting" (Replies.EARLY_TALKER; RFC 5321 4.3.1 allows 554
     * in place of the greeting) and is closed, never greeted, and not before the delay has passed. A patient client
     * is greeted no earlier than the delay. Clients in mynetworks, and everyone when the delay is zero, are greeted
     * at once and their early commands answered.
     */
    @Property(tries = 10, shrinking = ShrinkingMode.OFF)
    void earlyTalkerOutsideMynetworksIsRefused(@ForAll("pregreetDelays") int delayMs, @ForAll Talk talk,
                                               @ForAll boolean trusted,
                                               @ForAll("earlyCommands") String command) throws IOException {
        SmtpSettings s = TestConfigs.withTimeouts(TestConfigs.smtp(), Duration.ofMillis(delayMs),
                Duration.ofSeconds(30), Duration.ofSeconds(30));
        List<Cidr> mynetworks = trusted ? List.of(Cidr.parse("127.0.0.0/8")) : List.of(Cidr.parse("192.0.2.0/24"));
        MemoryJournal journal = new MemoryJournal();
        SmtpServer server = SmtpServer.start(TestConfigs.relay(s, mynetworks), journal);
        boolean refused = !trusted && delayMs > 0 && talk != Talk.AFTER_GREETING;
        String what = "delay=" + delayMs + " " + talk + " trusted=" + trusted + " " + command.strip() + ": ";
        try (Wire w = new Wire(server.localAddress(), "127.0.0.1")) {
            if (talk == Talk.HALFWAY) {
                sleep(delayMs / 2);
            }
            if (talk != Talk.AFTER_GREETING) {
                w.send(command);
            }
            String first = w.reply();
            long elapsed = w.millisSinceConnect(); // the server's wait starts after the connection exists
            if (refused) {
                expectEquals(first, EARLY_TALKER, what);
                check(elapsed >= delayMs - EARLY_SLACK_MS, what + "refused after " + elapsed + " ms");
                check(w.closedByServer(2000), what + "not closed after the 554");
            } else {
                expectEquals(first, GREETING, what);
                if (!trusted && delayMs > 0) {
                    check(elapsed >= delayMs - EARLY_SLACK_MS, what + "greeted after " + elapsed + " ms");
                } else if (trusted && delayMs > 0 && talk != Talk.HALFWAY) {
                    // mynetworks skip the wait (SmtpSettings#pregreetDelay: only clients outside it wait).
                    check(elapsed < delayMs, what + "mynetworks client greeted only after " + elapsed + " ms");
                }
                if (talk == Talk.AFTER_GREETING) {
                    w.send(command);
                }
                String answer = w.reply();
                String expect = command.startsWith("EHLO") ? "250-" : command.startsWith("QUIT") ? "221 " : "250 ";
                expectStarts(answer, expect, what + "the early command's answer");
            }
        } finally {
            server.close();
        }
        check(server.stats().rejections(RejectReason.EARLY_TALKER) == (refused ? 1 : 0), what + "EARLY_TALKER count");
        check(server.outstandingBuffers() == 0, "buffers outstanding after close: " + server.outstandingBuffers());
    }

    @Provide
    Arbitrary<Integer> pregreetDelays() {
        return Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(4, Arbitraries.integers().between(100, 250)));
    }

    @Provide
    Arbitrary<String> earlyCommands() {
        return Arbitraries.of("EHLO eager.example\r\n", "NOOP\r\n", "QUIT\r\n");
    }

    // ============================================================================================ connection limits

    enum OpKind { OPEN, QUIT, CLOSE, RESET }

    /** OPEN from 127.0.0.{@code n}; the others end the {@code n}-th (modulo) open connection. */
    record Op(OpKind kind, int n) {
    }

    /**
     * Connections opened and ended in a generated order from three loopback addresses, against a model of the limits
     * (Listener, ConnectionLimiter): over the total, or over the per-client limit where it applies (clients outside
     * mynetworks, or all with limit-mynetworks), a connection gets "421 4.7.0 Too many connections" at once and is
     * closed (RFC 5321 3.8); the admitted sessions keep answering; every way a session ends (QUIT, close, reset)
     * gives its permits back, so the model's admissions hold throughout, and at the end the limit is reachable again.
     */
    @Property(tries = 15, shrinking = ShrinkingMode.BOUNDED)
    void connectionLimitsFollowTheModel(@ForAll @IntRange(min = 1, max = 4) int total,
                                        @ForAll @IntRange(min = 1, max = 3) int perClient,
                                        @ForAll boolean trusted, @ForAll boolean limitMynetworks,
                                        @ForAll("connectionOps") List<Op> ops) throws IOException {
        SmtpSettings s = TestConfigs.withConnections(TestConfigs.smtp(), total, perClient, limitMynetworks);
        List<Cidr> mynetworks = trusted ? List.of(Cidr.parse("127.0.0.0/8")) : List.of();
        SmtpServer server = SmtpServer.start(TestConfigs.relay(s, mynetworks), new MemoryJournal());
        boolean perClientApplies = !trusted || limitMynetworks;
        String what = "total=" + total + " perClient=" + perClient + " trusted=" + trusted + " limitMynetworks="
                + limitMynetworks + " ops=" + ops + ": ";
        List<Wire> open = new ArrayList<>();
        List<Integer> openIp = new ArrayList<>();
        long totalRejects = 0;
        long clientRejects = 0;
        try {
            for (Op op : ops) {
                if (op.kind() == OpKind.OPEN) {
                    int ip = op.n();
                    long fromIp = openIp.stream().filter(i -> i == ip).count();
                    boolean overTotal = open.size() >= total;
                    boolean overClient = !overTotal && perClientApplies && fromIp >= perClient;
                    Wire w = new Wire(server.localAddress(), "127.0.0." + ip);
                    String first = w.reply();
                    if (overTotal || overClient) {
                        totalRejects += overTotal ? 1 : 0;
                        clientRejects += overClient ? 1 : 0;
                        expectEquals(first, TOO_MANY, what + "open #" + open.size() + " from 127.0.0." + ip);
                        check(w.closedByServer(2000), what + "refused connection left open");
                        w.close();
                        for (Wire other : open) {
                            expectEquals(other.send("NOOP\r\n").reply(), "250 Ok", what + "admitted session");
                        }
                    } else {
                        expectEquals(first, GREETING, what + "open #" + open.size() + " from 127.0.0." + ip);
                        open.add(w);
                        openIp.add(ip);
                    }
                } else if (!open.isEmpty()) {
                    int k = op.n() % open.size();
                    Wire w = open.remove(k);
                    openIp.remove(k);
                    switch (op.kind()) {
                        case QUIT -> {
                            expectStarts(w.send("QUIT\r\n").reply(), "221 ", what + "QUIT");
                            check(w.closedByServer(2000), what + "open after QUIT");
                            w.close();
                        }
                        case CLOSE -> w.close();
                        default -> w.abort();
                    }
                    awaitOpen(server, open.size());
                }
                check(server.stats().sessionsOpen() == open.size(), what + "sessions open "
                        + server.stats().sessionsOpen() + ", model " + open.size());
            }
            closeAll(open);
            open.clear();
            openIp.clear();
            awaitOpen(server, 0);
            // Permits all came back: the limit is reachable again from one address.
            int reachable = perClientApplies ? Math.min(total, perClient) : total;
            for (int i = 0; i < reachable; i++) {
                Wire w = new Wire(server.localAddress(), "127.0.0.1");
                open.add(w);
                expectEquals(w.reply(), GREETING, what + "after everything closed, connection " + i);
            }
            check(server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS) == totalRejects,
                    what + "TOO_MANY_CONNECTIONS " + server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS)
                            + ", model " + totalRejects);
            check(server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS_FROM_CLIENT) == clientRejects,
                    what + "TOO_MANY_CONNECTIONS_FROM_CLIENT "
                            + server.stats().rejections(RejectReason.TOO_MANY_CONNECTIONS_FROM_CLIENT)
                            + ", model " + clientRejects);
        } finally {
            closeAll(open);
            server.close();
        }
        check(server.outstandingBuffers() == 0, "buffers outstanding after close: " + server.outstandingBuffers());
    }

    @Provide
    Arbitrary<List<Op>> connectionOps() {
        Arbitrary<Op> opening = Arbitraries.integers().between(1, 3).map(ip -> new Op(OpKind.OPEN, ip));
        Arbitrary<Op> ending = Combinators.combine(Arbitraries.of(OpKind.QUIT, OpKind.CLOSE, OpKind.RESET),
                Arbitraries.integers().between(0, 7)).as(Op::new);
        return Arbitraries.frequencyOf(Tuple.of(3, opening), Tuple.of(1, ending)).list().ofMinSize(3).ofMaxSize(14);
    }

    // ============================================================================================ helpers

    /** A parsed reply: its code and its lines joined with "\n" (no CRLF). */
    record R(int code, String text) {
        @Override
        public String toString() {
            return text.replace("\n", " / ");
        }
    }

    /** Sends through an {@link EngineDriver}, splits the output into replies and keeps a transcript for failures. */
    static final class Checker {
        private final EngineDriver d;
        private final StringBuilder transcript;

        Checker(EngineDriver d, StringBuilder transcript) {
            this.d = d;
            this.transcript = transcript;
        }

        String sendAll(String bytes) {
            transcript.append("C: ").append(SessionModelProperties.escape(printable(bytes))).append('\n');
            String out = d.send(bytes);
            transcript.append(SessionModelProperties.escape(out).replace("\\r\\n", "\\r\\n\n").indent(3));
            return out;
        }

        List<R> replies(String bytes) {
            return parse(sendAll(bytes));
        }

        R one(String bytes) {
            List<R> r = replies(bytes);
            check(r.size() == 1, "expected one reply, got " + r);
            return r.get(0);
        }

        /** Sends the commands one by one or as one batch (RFC 2920); one reply per command either way. */
        List<R> exchange(List<String> commands, boolean pipelined) {
            List<R> all = new ArrayList<>();
            if (pipelined) {
                all.addAll(replies(String.join("", commands)));
            } else {
                for (String cmd : commands) {
                    all.addAll(replies(cmd));
                }
            }
            check(all.size() == commands.size(), commands.size() + " commands got " + all.size() + " replies");
            return all;
        }

        void expectOne(String out, int code) {
            List<R> r = parse(out);
            check(r.size() == 1 && r.get(0).code() == code, "expected one " + code + " reply, got " + r);
        }

        void expect(String what, R reply, Set<Integer> codes) {
            check(codes.contains(reply.code()), what + ": " + reply + ", expected one of " + codes);
            // RFC 3463 2: an enhanced code's class is the reply's first digit.
            check(!reply.text().matches("(?s)\\d{3} \\d\\.\\d{1,3}\\.\\d{1,3}( .*)?")
                    || reply.text().charAt(4) == reply.text().charAt(0), "enhanced code class differs: " + reply);
        }

        /** RFC 6531 3.5 (Replies.UTF8_NOT_PERMITTED): 553 with 5.6.7 where enhanced codes are in use. */
        void utf8Refusal(R reply, boolean ehlo) {
            check(reply.text().equals(ehlo ? "553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter"
                    : "553 Non-ASCII address requires the SMTPUTF8 parameter"), "UTF-8 refusal text: " + reply);
        }

        void check(boolean condition, String what) {
            if (!condition) {
                throw new AssertionError(what + "\ntranscript:\n" + transcript);
            }
        }

        private List<R> parse(String out) {
            List<R> replies = new ArrayList<>();
            check(out.isEmpty() || out.endsWith("\r\n"), "output does not end with CRLF: " + out);
            StringBuilder current = new StringBuilder();
            for (String line : out.split("\r\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                check(line.matches("[2-5][0-9][0-9]([ -].*)?"), "malformed reply line " + line);
                if (!current.isEmpty()) {
                    current.append('\n');
                }
                current.append(line);
                if (line.length() == 3 || line.charAt(3) == ' ') {
                    replies.add(new R(Integer.parseInt(line.substring(0, 3)), current.toString()));
                    current.setLength(0);
                }
            }
            check(current.isEmpty(), "unfinished multi-line reply " + current);
            return replies;
        }
    }

    /**
     * A {@link RawClient} bound to a chosen local address (a client of 127.0.0.0/8), that also keeps the times the
     * timeout checks need.
     */
    static final class Wire implements AutoCloseable {
        private final RawClient raw;
        private final long connectStart = System.nanoTime();
        private long lastSend = connectStart;

        Wire(InetSocketAddress server, String localAddress) throws IOException {
            raw = new RawClient(server, InetAddress.getByName(localAddress), 2000, 3000);
        }

        Wire send(String octets) throws IOException {
            lastSend = System.nanoTime();
            raw.send(octets);
            return this;
        }

        /** One complete reply, lines joined with "\n"; null at end of stream. Times out after 3 s. */
        String reply() throws IOException {
            return raw.reply();
        }

        /** True if the server closes (EOF or reset) within {@code millis}, with nothing more sent. */
        boolean closedByServer(int millis) throws IOException {
            raw.timeout(millis);
            try {
                return raw.closedByServer();
            } finally {
                try {
                    raw.timeout(3000);
                } catch (IOException closed) {
                    // the socket is gone: nothing left to time
                }
            }
        }

        long millisSinceLastSend() {
            return (System.nanoTime() - lastSend) / 1_000_000;
        }

        long millisSinceConnect() {
            return (System.nanoTime() - connectStart) / 1_000_000;
        }

        void abort() throws IOException {
            raw.abort();
        }

        @Override
        public void close() throws IOException {
            raw.close();
        }
    }

    private static void awaitOpen(SmtpServer server, long n) {
        long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (server.stats().sessionsOpen() != n && System.nanoTime() < end) {
            sleep(2);
        }
        check(server.stats().sessionsOpen() == n, "sessions open " + server.stats().sessionsOpen() + ", expected " + n);
    }

    private static void closeAll(List<Wire> wires) {
        for (Wire w : wires) {
            try {
                w.close();
            } catch (IOException e) {
                // closing a test socket: nothing to do
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void expectEquals(String actual, String expected, String what) {
        check(expected.equals(actual), what + ": got " + actual + ", expected " + expected);
    }

    private static void expectStarts(String actual, String prefix, String what) {
        check(actual != null && actual.startsWith(prefix), what + ": got " + actual + ", expected " + prefix + "...");
    }

    /** A Java string as its UTF-8 octets, one char per octet (how {@link EngineDriver} and {@link Wire} send). */
    static String iso(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** For messages: octets shown as UTF-8 where they are, others as \xNN. */
    static String printable(String octets) {
        StringBuilder b = new StringBuilder();
        byte[] bytes = octets.getBytes(StandardCharsets.ISO_8859_1);
        for (byte x : bytes) {
            int v = x & 0xFF;
            b.append(v >= 0x80 ? String.format("\\x%02X", v) : String.valueOf((char) v));
        }
        return b.toString();
    }

    private static byte[] bytes(int[] octets) {
        byte[] b = new byte[octets.length];
        for (int i = 0; i < octets.length; i++) {
            b[i] = (byte) octets[i];
        }
        return b;
    }
}

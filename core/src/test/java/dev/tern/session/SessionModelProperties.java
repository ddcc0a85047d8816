package dev.tern.session;

import static org.assertj.core.api.Assertions.fail;

import dev.tern.buffer.BufferPool;
import dev.tern.config.LineEndingPolicy;
import dev.tern.config.SmtpSettings;
import dev.tern.message.EnvelopeRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Disabled;

/**
 * The {@link SessionEngine} against an independent model of the SMTP server state machine, on random command
 * sequences sent one at a time or pipelined in random groups.
 *
 * <p>The model is written from RFC 5321 (3.3 the transaction, 4.1.1 the commands, 4.1.4 their order, 4.2 replies,
 * 4.3.2 the codes each command may get, 4.5.3.1 size limits), RFC 2920 (pipelining: one reply per command, in order),
 * RFC 3030 (BDAT: one reply per chunk, a refused chunk is still read, a failed chunk fails the transaction) and
 * RFC 1870 (SIZE). For every command it computes the set of reply codes the RFCs allow in the current state, checks
 * the engine's reply against that set, and then follows the engine's answer: a 2xx/3xx moves the model as an accepted
 * command, anything else as a refused one. Where an RFC allows several answers, the set holds all of them (each such
 * place says so); where Tern documents a deliberate choice in its code, the model follows it and cites it.
 *
 * <p>Checked on every run: exactly one reply per command line (a multi-line reply counts once), 354 exactly when a
 * transaction with recipients exists, one reply per BDAT chunk, reply codes 2xx-5xx with CRLF-terminated lines of at
 * most 512 octets (4.5.3.1.5) and one code per multi-line reply (4.2.1), 221 then close after QUIT, every message
 * acknowledged with 250 in the journal with its sender, recipients and content (and nothing else), no exception out
 * of the engine, every body buffer back in its pool at the end. jqwik prints the seed and the shrunk sequence.
 */
class SessionModelProperties {

    static final long MAX_SIZE = 1500;
    static final int MAX_RCPTS = 3;
    /** Bytes per send: below {@link EngineDriver}'s 4 KiB input buffer, so a group arrives as one read. */
    private static final int MAX_GROUP_BYTES = 3500;
    /**
     * Content sizes between this and {@link #MAX_SIZE} may be refused: whether the server counts its own Received
     * header against the limit is not fixed by RFC 1870, so the model is exact only outside this margin.
     */
    private static final long SIZE_MARGIN = 500;

    // ------------------------------------------------------------------------------------------------ properties

    @Property(tries = 1500)
    void engineAnswersAsTheRfcModelAllows(@ForAll("sessions") List<Cmd> session, @ForAll boolean trusted,
                                          @ForAll boolean pipelined) {
        new Run(settings(1_000_000), trusted, false).play(session, pipelined);
    }

    /**
     * Tern's error limit (SessionEngine#error: "at maxErrors the session says 421 4.7.0 and closes, as Postfix's
     * smtpd_hard_error_limit"); RFC 5321 3.8 allows a server to close with 421 at any time. Which refusals count is
     * Tern's choice, so the model only bounds it: 500, 501 and 503 (command errors) surely count, and nothing but
     * 4xx/5xx replies may count. The 421 must come after the reply that reached the limit, and the session closes.
     */
    @Property(tries = 400)
    void errorLimitClosesWith421(@ForAll("sessions") List<Cmd> session, @ForAll @IntRange(min = 1, max = 6) int limit,
                                 @ForAll boolean pipelined) {
        new Run(settings(limit), true, false).play(session, pipelined);
    }

    /**
     * RFC 5321 4.5.1: a server that relays or delivers MUST accept "RCPT TO:&lt;Postmaster&gt;" (no domain), from any
     * client; 4.1.1.3 repeats it. The main property accepts Tern's refusal of it for clients outside mynetworks (no
     * postmaster-address set); with one set, this one holds the RFC's requirement, and the journal must hold the
     * mailbox it names.
     */
    @Property(tries = 300)
    void postmasterIsAcceptedFromAnyClient(@ForAll("sessions") List<Cmd> session, @ForAll boolean pipelined,
                                           @ForAll boolean trusted) {
        new Run(settings(1_000_000).withPostmaster(POSTMASTER), trusted, true).play(session, pipelined);
    }

    static final String POSTMASTER = "hostmaster+tern@ops.example";

    static SmtpSettings settings(int maxErrors) {
        return new SmtpSettings(EngineDriver.HOST, 512, MAX_SIZE, 1000, MAX_RCPTS, 100, 10, false, maxErrors,
                Duration.ZERO, Duration.ofMinutes(5), Duration.ofMinutes(3), LineEndingPolicy.REJECT);
    }

    // ------------------------------------------------------------------------------------------------ commands

    enum Kind { HELLO, MAIL, RCPT, DATA, BDAT, RSET, NOOP, VRFY, EXPN, HELP, QUIT, STARTTLS, UNKNOWN, OBSOLETE, RAW }

    enum Flag {
        /** EHLO rather than HELO. */
        EHLO,
        /** The command's syntax is wrong (missing or extra argument, malformed BDAT). */
        SYNTAX,
        /** The MAIL/RCPT path breaks RFC 5321 4.1.2 or a 4.5.3.1 limit. */
        BAD_PATH,
        /** A path without angle brackets: not RFC 5321 syntax, but commonly accepted. */
        LENIENT_PATH,
        /** ESMTP parameters are present (only meaningful after EHLO). */
        PARAMS,
        /** A parameter the server does not advertise (RFC 5321 4.1.1.11: 555). */
        UNKNOWN_PARAM,
        /** A known parameter with a bad or repeated value. */
        BAD_PARAM,
        /** RCPT TO:&lt;Postmaster&gt; without a domain (RFC 5321 4.1.1.3, 4.5.1). */
        POSTMASTER,
        /** BDAT ... LAST. */
        LAST,
        /** Content with a line over 1000 octets (RFC 5321 4.5.3.1.6). */
        LONG_LINE
    }

    /**
     * One client command: its line (verb with the chosen letter case, then arguments) and, for DATA and BDAT, the
     * content that follows; {@code mailbox} is what MAIL/RCPT should store, {@code size} the declared SIZE or chunk
     * size, {@code stored} the content as the server should keep it.
     */
    record Cmd(Kind kind, String verb, String args, Set<Flag> flags, String mailbox, long size, String payload,
               String stored, boolean groupEnd) {

        static Cmd of(Kind kind, String verb, String args, Flag... flags) {
            return new Cmd(kind, verb, args, flagSet(flags), null, -1, "", "", false);
        }

        boolean has(Flag f) {
            return flags.contains(f);
        }

        /** The octets of the command line. RAW lines are sent as they are (they carry their own line ending). */
        String line() {
            return kind == Kind.RAW ? args : verb + args + "\r\n";
        }

        Cmd styled(int style, boolean end) {
            String v = switch (style) {
                case 1 -> verb.toLowerCase(Locale.ROOT); // RFC 5321 2.4: verbs are case-insensitive
                case 2 -> mixed(verb);
                default -> verb;
            };
            return new Cmd(kind, v, args, flags, mailbox, size, payload, stored, end);
        }

        @Override
        public String toString() {
            String p = payload.length() > 40 ? payload.substring(0, 40) + "...(" + payload.length() + ")" : payload;
            String l = line();
            l = l.length() > 60 ? l.substring(0, 60) + "...(" + l.length() + ")" : l;
            return escape(l + p) + (groupEnd ? " |" : "");
        }

        private static String mixed(String s) {
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                b.append(i % 2 == 0 ? Character.toLowerCase(c) : c);
            }
            return b.toString();
        }
    }

    private static Set<Flag> flagSet(Flag... flags) {
        Set<Flag> s = EnumSet.noneOf(Flag.class);
        s.addAll(List.of(flags));
        return s;
    }

    /**
     * A session: an optional EHLO, then pieces that are either one random command or a well-formed transaction
     * (MAIL, RCPTs, DATA or BDAT chunks), so that random commands land in every state, including mid-transaction.
     */
    @Provide
    Arbitrary<List<Cmd>> sessions() {
        Arbitrary<List<Cmd>> piece = Arbitraries.frequencyOf(
                Tuple.of(5, styled(anyCommand()).map(List::of)),
                Tuple.of(2, transaction()));
        Arbitrary<List<Cmd>> start = Arbitraries.frequencyOf(
                Tuple.of(4, styled(Arbitraries.just(Cmd.of(Kind.HELLO, "EHLO", " client.example", Flag.EHLO)))
                        .map(List::of)),
                Tuple.of(1, Arbitraries.just(List.of())));
        return Combinators.combine(start, piece.list().ofMinSize(1).ofMaxSize(16)).as((first, rest) -> {
            List<Cmd> all = new ArrayList<>(first);
            rest.forEach(all::addAll);
            return all;
        });
    }

    /** Sets each command's letter case (upper, lower, mixed) and whether a pipelined group ends after it. */
    private static Arbitrary<Cmd> styled(Arbitrary<Cmd> commands) {
        return Combinators.combine(commands, Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 2)).as((c, style, end) -> c.styled(style, end == 0));
    }

    private static Arbitrary<Cmd> anyCommand() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, hello()),
                Tuple.of(8, mail(mailPaths(), mailParams())),
                Tuple.of(10, rcpt(rcptPaths(), rcptParams())),
                Tuple.of(5, data()),
                Tuple.of(6, bdat()),
                Tuple.of(3, Arbitraries.just(Cmd.of(Kind.RSET, "RSET", ""))),
                Tuple.of(2, Arbitraries.of(Cmd.of(Kind.NOOP, "NOOP", ""), Cmd.of(Kind.NOOP, "NOOP", " ignored text"))),
                Tuple.of(1, Arbitraries.of(Cmd.of(Kind.VRFY, "VRFY", " alice"),
                        Cmd.of(Kind.VRFY, "VRFY", "", Flag.SYNTAX))),
                Tuple.of(1, Arbitraries.of(Cmd.of(Kind.EXPN, "EXPN", " staff"),
                        Cmd.of(Kind.EXPN, "EXPN", "", Flag.SYNTAX))),
                Tuple.of(1, Arbitraries.of(Cmd.of(Kind.HELP, "HELP", ""), Cmd.of(Kind.HELP, "HELP", " MAIL"))),
                Tuple.of(1, Arbitraries.just(Cmd.of(Kind.QUIT, "QUIT", ""))),
                Tuple.of(1, Arbitraries.just(Cmd.of(Kind.STARTTLS, "STARTTLS", ""))),
                Tuple.of(2, Arbitraries.of(Cmd.of(Kind.UNKNOWN, "FOOB", ""), Cmd.of(Kind.UNKNOWN, "XYZZY", " arg"),
                        Cmd.of(Kind.UNKNOWN, "MAILFROM:", "<a@example.org>"))),
                Tuple.of(1, Arbitraries.of(Cmd.of(Kind.OBSOLETE, "TURN", ""),
                        Cmd.of(Kind.OBSOLETE, "SEND", " FROM:<a@example.org>"),
                        Cmd.of(Kind.OBSOLETE, "SOML", " FROM:<a@example.org>"),
                        Cmd.of(Kind.OBSOLETE, "SAML", " FROM:<a@example.org>"))),
                Tuple.of(3, raw()));
    }

    /** MAIL with a valid path, one to four valid RCPTs (a fourth is over the limit), then DATA or BDAT chunks. */
    private static Arbitrary<List<Cmd>> transaction() {
        Arbitrary<Cmd> mail = styled(mail(Arbitraries.of(VALID_SENDERS), Arbitraries.of(VALID_MAIL_PARAMS)));
        Arbitrary<List<Cmd>> rcpts = styled(rcpt(Arbitraries.of(VALID_RCPTS), Arbitraries.just(Params.of("", -1))))
                .list().ofMinSize(1).ofMaxSize(MAX_RCPTS + 1);
        Arbitrary<List<Cmd>> content = Arbitraries.oneOf(
                styled(data()).map(List::of),
                Combinators.combine(styled(chunk(false)).list().ofMaxSize(2), styled(chunk(true)))
                        .as((more, last) -> {
                            List<Cmd> all = new ArrayList<>(more);
                            all.add(last);
                            return all;
                        }));
        return Combinators.combine(mail, rcpts, content).as((m, r, c) -> {
            List<Cmd> all = new ArrayList<>();
            all.add(m);
            all.addAll(r);
            all.addAll(c);
            return all;
        });
    }

    private static Arbitrary<Cmd> hello() {
        return Arbitraries.of(
                Cmd.of(Kind.HELLO, "EHLO", " client.example", Flag.EHLO),
                Cmd.of(Kind.HELLO, "EHLO", " [192.0.2.1]", Flag.EHLO),
                Cmd.of(Kind.HELLO, "EHLO", " [IPv6:2001:db8::1]", Flag.EHLO),
                Cmd.of(Kind.HELLO, "HELO", " client.example"),
                Cmd.of(Kind.HELLO, "HELO", " mx-1.example.org"),
                // RFC 5321 4.1.1.1: the domain is required.
                Cmd.of(Kind.HELLO, "EHLO", "", Flag.EHLO, Flag.SYNTAX),
                Cmd.of(Kind.HELLO, "HELO", "", Flag.SYNTAX));
    }

    /** A path: its text, the mailbox to store, and flags. */
    record Path(String text, String mailbox, Set<Flag> flags) {
        static Path of(String text, String mailbox, Flag... f) {
            return new Path(text, mailbox, flagSet(f));
        }
    }

    /** ESMTP parameters: their text, the declared SIZE (-1 if none), and flags. */
    record Params(String text, long size, Set<Flag> flags) {
        static Params of(String text, long size, Flag... f) {
            return new Params(text, size, flagSet(f));
        }
    }

    private static final String LONG_LOCAL = "x".repeat(65); // RFC 5321 4.5.3.1.1: at most 64
    private static final String LONG_LABEL = "l".repeat(64); // RFC 1035 2.3.4 via 5321 4.1.2: at most 63

    private static final List<Path> VALID_SENDERS = List.of(
            Path.of("<alice@example.org>", "alice@example.org"),
            Path.of("<>", ""),
            Path.of("<bob.smith+tag@sub.example.com>", "bob.smith+tag@sub.example.com"),
            Path.of("<\"quoted x\"@example.org>", "\"quoted x\"@example.org"),
            Path.of("<a@[192.0.2.9]>", "a@[192.0.2.9]"));

    private static final List<Params> VALID_MAIL_PARAMS = List.of(
            Params.of("", -1),
            Params.of(" SIZE=100", 100, Flag.PARAMS),
            Params.of(" SIZE=" + MAX_SIZE, MAX_SIZE, Flag.PARAMS),
            Params.of(" BODY=8BITMIME", -1, Flag.PARAMS),
            Params.of(" BODY=7BIT SIZE=20", 20, Flag.PARAMS),
            Params.of(" RET=HDRS ENVID=abc", -1, Flag.PARAMS));

    private static final List<Path> VALID_RCPTS = List.of(
            Path.of("<bob@example.net>", "bob@example.net"),
            Path.of("<carol@example.net>", "carol@example.net"),
            Path.of("<dave@sub.example.com>", "dave@sub.example.com"),
            // RFC 5321 4.1.2 A-d-l: a source route is valid syntax, and C.2/F.2 say to ignore it.
            Path.of("<@relay.example:erin@example.net>", "erin@example.net"));

    private static Arbitrary<Path> mailPaths() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(VALID_SENDERS)),
                Tuple.of(2, Arbitraries.of(
                        Path.of("<alice>", null, Flag.BAD_PATH),
                        Path.of("<alice@>", null, Flag.BAD_PATH),
                        Path.of("<a..b@example.org>", null, Flag.BAD_PATH),
                        Path.of("<" + LONG_LOCAL + "@example.org>", null, Flag.BAD_PATH),
                        Path.of("<alice@" + LONG_LABEL + ".example>", null, Flag.BAD_PATH),
                        Path.of("<alice@example.org", null, Flag.BAD_PATH),
                        Path.of("alice@example.org", "alice@example.org", Flag.LENIENT_PATH))));
    }

    private static Arbitrary<Params> mailParams() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of(VALID_MAIL_PARAMS)),
                Tuple.of(3, Arbitraries.of(
                        Params.of(" SIZE=" + (MAX_SIZE + 1), MAX_SIZE + 1, Flag.PARAMS),
                        Params.of(" SIZE=99999999999999999999", Long.MAX_VALUE, Flag.PARAMS),
                        Params.of(" SIZE=12x", -1, Flag.PARAMS, Flag.BAD_PARAM),
                        Params.of(" SIZE=", -1, Flag.PARAMS, Flag.BAD_PARAM),
                        Params.of(" SIZE=10 SIZE=20", -1, Flag.PARAMS, Flag.BAD_PARAM),
                        // BINARYMIME needs RFC 3030 BINARYMIME, which is not advertised.
                        Params.of(" BODY=BINARYMIME", -1, Flag.PARAMS, Flag.BAD_PARAM),
                        Params.of(" XFOO=1", -1, Flag.PARAMS, Flag.UNKNOWN_PARAM),
                        Params.of(" AUTH=<>", -1, Flag.PARAMS, Flag.UNKNOWN_PARAM))));
    }

    private static Arbitrary<Cmd> mail(Arbitrary<Path> paths, Arbitrary<Params> params) {
        return Combinators.combine(paths, params).as((p, q) -> {
            Set<Flag> f = EnumSet.noneOf(Flag.class);
            f.addAll(p.flags());
            f.addAll(q.flags());
            return new Cmd(Kind.MAIL, "MAIL FROM:", p.text() + q.text(), f, p.mailbox(), q.size(), "", "", false);
        });
    }

    private static Arbitrary<Path> rcptPaths() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.of(VALID_RCPTS)),
                Tuple.of(2, Arbitraries.of(
                        Path.of("<Postmaster>", "Postmaster", Flag.POSTMASTER),
                        Path.of("<postmaster>", "postmaster", Flag.POSTMASTER))),
                Tuple.of(4, Arbitraries.of(
                        Path.of("<>", null, Flag.BAD_PATH), // the null path is for MAIL only (4.1.1.3)
                        Path.of("<bob>", null, Flag.BAD_PATH),
                        Path.of("<bob@@example.net>", null, Flag.BAD_PATH),
                        Path.of("<" + LONG_LOCAL + "@example.net>", null, Flag.BAD_PATH),
                        Path.of("<bob@example.net", null, Flag.BAD_PATH),
                        Path.of("bob@example.net", "bob@example.net", Flag.LENIENT_PATH))));
    }

    private static Arbitrary<Params> rcptParams() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(Params.of("", -1))),
                Tuple.of(3, Arbitraries.of(
                        Params.of(" NOTIFY=SUCCESS,FAILURE", -1, Flag.PARAMS),
                        Params.of(" NOTIFY=NEVER", -1, Flag.PARAMS),
                        Params.of(" ORCPT=rfc822;bob@example.net", -1, Flag.PARAMS),
                        Params.of(" NOTIFY=SOMETIMES", -1, Flag.PARAMS, Flag.BAD_PARAM),
                        Params.of(" NOTIFY=NEVER,SUCCESS", -1, Flag.PARAMS, Flag.BAD_PARAM), // RFC 3461 4.1
                        Params.of(" XFOO=1", -1, Flag.PARAMS, Flag.UNKNOWN_PARAM),
                        Params.of(" SIZE=10", -1, Flag.PARAMS, Flag.UNKNOWN_PARAM)))); // SIZE is a MAIL parameter
    }

    private static Arbitrary<Cmd> rcpt(Arbitrary<Path> paths, Arbitrary<Params> params) {
        return Combinators.combine(paths, params).as((p, q) -> {
            Set<Flag> f = EnumSet.noneOf(Flag.class);
            f.addAll(p.flags());
            f.addAll(q.flags());
            return new Cmd(Kind.RCPT, "RCPT TO:", p.text() + q.text(), f, p.mailbox(), -1, "", "", false);
        });
    }

    /** Lines of content (no CRLF): short text, empty lines, lines that start with a dot. */
    private static Arbitrary<List<String>> smallLines() {
        Arbitrary<String> line = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.strings().withChars("abcXYZ 019:-").ofMaxLength(40)),
                Tuple.of(1, Arbitraries.of(".", "..", ".hidden", "")));
        return line.list().ofMaxSize(5);
    }

    private static final List<String> BIG = java.util.Collections.nCopies(25, "y".repeat(78)); // 2000 octets
    private static final List<String> LONG = List.of("head", "z".repeat(1200), "tail");

    private static Arbitrary<Cmd> data() {
        Arbitrary<Cmd> content = Arbitraries.frequencyOf(
                Tuple.of(8, smallLines().map(l -> dataCmd(l))),
                Tuple.of(1, Arbitraries.just(dataCmd(BIG))),
                Tuple.of(1, Arbitraries.just(dataCmd(LONG))));
        return Arbitraries.frequencyOf(
                Tuple.of(9, content),
                Tuple.of(1, Arbitraries.just(Cmd.of(Kind.DATA, "DATA", " now", Flag.SYNTAX)))); // 4.1.1.4: no args
    }

    private static Cmd dataCmd(List<String> lines) {
        StringBuilder wire = new StringBuilder();
        StringBuilder stored = new StringBuilder();
        boolean longLine = false;
        for (String l : lines) {
            wire.append(l.startsWith(".") ? "." : "").append(l).append("\r\n"); // RFC 5321 4.5.2 dot-stuffing
            stored.append(l).append("\r\n");
            longLine |= l.length() + 2 > 1000;
        }
        wire.append(".\r\n");
        Set<Flag> f = longLine ? flagSet(Flag.LONG_LINE) : flagSet();
        return new Cmd(Kind.DATA, "DATA", "", f, null, stored.length(), wire.toString(), stored.toString(), false);
    }

    private static Arbitrary<Cmd> bdat() {
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.of(false, true).flatMap(SessionModelProperties::chunk)),
                // RFC 3030 2: "BDAT" SP chunk-size [SP end-marker]; no chunk follows a line the server cannot size.
                Tuple.of(1, Arbitraries.of(Cmd.of(Kind.BDAT, "BDAT", "", Flag.SYNTAX),
                        Cmd.of(Kind.BDAT, "BDAT", " x", Flag.SYNTAX),
                        Cmd.of(Kind.BDAT, "BDAT", " -1", Flag.SYNTAX),
                        Cmd.of(Kind.BDAT, "BDAT", " 5 FIRST", Flag.SYNTAX))));
    }

    /** A BDAT chunk of whole lines: small, over the size limit, or with a line over 1000 octets. */
    private static Arbitrary<Cmd> chunk(boolean last) {
        Arbitrary<List<String>> chunkLines = Arbitraries.frequencyOf(
                Tuple.of(8, smallLines()),
                Tuple.of(1, Arbitraries.just(BIG)),
                Tuple.of(1, Arbitraries.just(LONG)));
        // RFC 3030 2 (ABNF, so case-insensitive): "LAST" in any case.
        return Combinators.combine(chunkLines, Arbitraries.of(" LAST", " last")).as((lines, marker) -> {
            String content = lines.isEmpty() ? "" : String.join("\r\n", lines) + "\r\n";
            boolean longLine = lines.stream().anyMatch(l -> l.length() + 2 > 1000);
            Set<Flag> f = flagSet();
            if (last) {
                f.add(Flag.LAST);
            }
            if (longLine) {
                f.add(Flag.LONG_LINE);
            }
            String args = " " + content.length() + (last ? marker : "");
            return new Cmd(Kind.BDAT, "BDAT", args, f, null, content.length(), content, content, false);
        });
    }

    private static Arbitrary<Cmd> raw() {
        return Arbitraries.of(
                Cmd.of(Kind.RAW, "", "\r\n"), // an empty line
                // RFC 5321 4.5.3.1.4: 512 octets; Tern refuses longer lines (architecture.md "Every length is
                // checked"), MAIL/RCPT with the RFC 1870/3461/6531 allowances. All of these are over any allowance.
                Cmd.of(Kind.RAW, "", "NOOP " + "n".repeat(600) + "\r\n"),
                Cmd.of(Kind.RAW, "", "X".repeat(700) + "\r\n"),
                Cmd.of(Kind.RAW, "", "MAIL FROM:<alice@example.org> X-PAD=" + "p".repeat(1100) + "\r\n"),
                Cmd.of(Kind.RAW, "", "RCPT TO:<bob@example.net> X-PAD=" + "p".repeat(1100) + "\r\n"),
                // A bare LF is not a line ending (RFC 5321 2.3.8); Tern answers such a line 500 and does not execute
                // it (LineFramer: "Any LF ends a line, so the framer stays in step ... yet only CRLF yields LINE").
                Cmd.of(Kind.RAW, "", "NOOP\n"),
                Cmd.of(Kind.RAW, "", "MAIL FROM:<smuggled@example.org>\n"));
    }

    // ------------------------------------------------------------------------------------------------ the model

    enum Greeting { NONE, HELO, EHLO }

    record Message(String sender, List<String> recipients, String content) {
    }

    /** A parsed reply: its code and lines (without CRLF). */
    record Reply(int code, List<String> lines) {
        @Override
        public String toString() {
            return String.join(" / ", lines);
        }
    }

    /**
     * One session: the engine under test, the model, and the transcript for failure messages. Replies are checked
     * against the model command by command, in order (RFC 2920 3: replies come in the order of the commands).
     */
    static final class Run {
        private final MemoryJournal journal = new MemoryJournal();
        private final BufferPool pool = new BufferPool(1024, 16, 0);
        private final EngineDriver driver;
        private final SmtpSettings settings;
        private final boolean trusted;
        private final boolean strictPostmaster;
        private final StringBuilder transcript = new StringBuilder();

        // Model state (RFC 5321 3.3, 4.1.4).
        private Greeting greeting = Greeting.NONE;
        private boolean inTx;
        private String sender;
        private final List<String> rcpts = new ArrayList<>();
        private boolean bdat;
        private long bdatSize;
        private final StringBuilder bdatContent = new StringBuilder();
        private boolean bdatLongLine;
        private boolean bdatOver;
        private boolean closed;
        private final List<Message> accepted = new ArrayList<>();
        /** Refusals that surely count toward the error limit, and all refusals (see errorLimitClosesWith421). */
        private int surelyCounted;
        private int mayCount;

        Run(SmtpSettings settings, boolean trusted, boolean strictPostmaster) {
            this.settings = settings;
            this.trusted = trusted;
            this.strictPostmaster = strictPostmaster;
            this.driver = new EngineDriver(settings, journal, pool, trusted);
        }

        void play(List<Cmd> session, boolean pipelined) {
            transcript.append("trusted=").append(trusted).append(" pipelined=").append(pipelined)
                    .append(" maxErrors=").append(settings.maxErrors()).append('\n');
            try {
                String greetingReply = driver.greet();
                transcript.append("S: ").append(escape(greetingReply)).append('\n');
                check(greetingReply.startsWith("220 ") && greetingReply.endsWith("\r\n"), "220 greeting");
                List<Cmd> group = new ArrayList<>();
                int groupBytes = 0;
                boolean tlsInGroup = false;
                // Only the greeting is predicted ahead (it is deterministic): BDAT is sent only after EHLO, since
                // CHUNKING is an EHLO extension (RFC 3030 2) and whether a HELO session reads the chunk is open.
                Greeting predicted = Greeting.NONE;
                for (Cmd c : session) {
                    if (closed) {
                        break;
                    }
                    int bytes = c.line().length() + c.payload().length();
                    if (!group.isEmpty() && groupBytes + bytes > MAX_GROUP_BYTES) {
                        exchange(group);
                        group.clear();
                        groupBytes = 0;
                        tlsInGroup = false;
                    }
                    if (!tlsInGroup) {
                        if (c.kind() == Kind.BDAT && !c.has(Flag.SYNTAX) && predicted == Greeting.HELO) {
                            continue;
                        }
                        if (c.kind() == Kind.HELLO && !c.has(Flag.SYNTAX)) {
                            predicted = c.has(Flag.EHLO) ? Greeting.EHLO : Greeting.HELO;
                        }
                    }
                    group.add(c);
                    groupBytes += c.kind() == Kind.DATA ? c.line().length() : bytes;
                    tlsInGroup |= c.kind() == Kind.STARTTLS;
                    // RFC 2920 3.1: DATA is the last command of a group; its content waits for the 354.
                    if (!pipelined || c.groupEnd() || c.kind() == Kind.DATA) {
                        exchange(group);
                        group.clear();
                        groupBytes = 0;
                        tlsInGroup = false;
                    }
                }
                if (!group.isEmpty() && !closed) {
                    exchange(group);
                }
                if (!closed) {
                    driver.engine.disconnected();
                }
                driver.close();
            } catch (RuntimeException e) {
                throw new AssertionError("engine threw " + e + "\n" + transcript, e);
            }
            check(pool.outstanding() == 0, "body buffers outstanding after the session: " + pool.outstanding());
            checkJournal();
        }

        /** Sends one group (or one command) and checks the replies command by command. */
        private void exchange(List<Cmd> group) {
            StringBuilder wire = new StringBuilder();
            for (Cmd c : group) {
                wire.append(c.line());
                if (c.kind() == Kind.BDAT) {
                    wire.append(c.payload());
                }
                transcript.append("C: ").append(c).append('\n');
            }
            String out = driver.send(wire.toString());
            transcript.append("S: ").append(escape(out)).append('\n');
            List<Reply> replies = parse(out);
            int next = 0;
            boolean discarding = false;
            for (Cmd c : group) {
                if (closed || discarding) {
                    break;
                }
                check(next < replies.size(), "no reply to " + c);
                Reply r = replies.get(next++);
                boolean content = apply(c, r);
                next = afterReply(replies, next);
                if (content && !closed) {
                    check(next == replies.size(), "replies after 354: " + replies.subList(next, replies.size()));
                    transcript.append("C: ").append(escape(abbreviate(c.payload()))).append('\n');
                    String after = driver.send(c.payload());
                    transcript.append("S: ").append(escape(after)).append('\n');
                    replies = parse(after);
                    next = 0;
                    check(!replies.isEmpty(), "no reply to the end of data");
                    endOfData(c, replies.get(next++));
                    next = afterReply(replies, next);
                }
                // Tern discards what was pipelined after STARTTLS (SessionEngine#command, RFC 3207 4.2,
                // CVE-2011-0411): the rest of the group gets no reply and has no effect.
                discarding = c.kind() == Kind.STARTTLS;
            }
            check(next == replies.size(), "more replies than commands: " + replies.subList(next, replies.size()));
            check(driver.closed() == closed, "engine closed=" + driver.closed() + ", model closed=" + closed);
        }

        /** The error limit: a 421 may follow a reply only once enough refusals may have counted; then close. */
        private int afterReply(List<Reply> replies, int next) {
            if (next < replies.size() && replies.get(next).code() == 421) {
                check(mayCount >= settings.maxErrors(), "421 before the error limit could be reached ("
                        + mayCount + " refusals, limit " + settings.maxErrors() + ")");
                closed = true;
                return next + 1;
            }
            check(surelyCounted < settings.maxErrors(), "no 421 after " + surelyCounted
                    + " command errors (limit " + settings.maxErrors() + ")");
            return next;
        }

        private void countRefusal(Reply r) {
            if (r.code() >= 400) {
                mayCount++;
                if (r.code() == 500 || r.code() == 501 || r.code() == 503) {
                    surelyCounted++;
                }
            }
        }

        /** Checks one reply against the model and moves the model. Returns true when content must follow (354). */
        private boolean apply(Cmd c, Reply r) {
            countRefusal(r);
            switch (c.kind()) {
                case HELLO -> {
                    if (c.has(Flag.SYNTAX)) {
                        // RFC 5321 4.1.4: 501, 500, 502 or 550, and the state stays as it was.
                        expect(c, r, Set.of(500, 501, 502, 550));
                    } else {
                        expect(c, r, Set.of(250));
                        // RFC 5321 4.1.4: a later EHLO (or HELO) resets the state as RSET does.
                        greeting = c.has(Flag.EHLO) ? Greeting.EHLO : Greeting.HELO;
                        resetTx();
                        if (c.has(Flag.EHLO)) {
                            checkEhlo(r);
                        } else {
                            check(r.lines().size() == 1, "HELO reply is one line: " + r);
                        }
                    }
                }
                case MAIL -> mail(c, r);
                case RCPT -> rcpt(c, r);
                case DATA -> {
                    Set<Integer> refuse = new TreeSet<>();
                    if (c.has(Flag.SYNTAX)) {
                        refuse.add(501); // 4.1.1.4: DATA takes no argument
                    }
                    sequence(refuse);
                    if (inTx && rcpts.isEmpty()) {
                        // RFC 5321 3.3: no (accepted) RCPT: 503 or 554, either is allowed.
                        refuse.addAll(Set.of(503, 554));
                    }
                    if (bdat) {
                        refuse.add(503); // RFC 3030 2: BDAT and DATA may not be mixed in one transaction
                    }
                    if (refuse.isEmpty()) {
                        expect(c, r, Set.of(354));
                        return true;
                    }
                    expect(c, r, refuse);
                }
                case BDAT -> bdat(c, r);
                case RSET -> {
                    expect(c, r, Set.of(250)); // 4.1.1.5: RSET is allowed anywhere
                    resetTx();
                }
                case NOOP -> expect(c, r, Set.of(250)); // 4.1.1.9: its argument is ignored
                // 4.1.1.6, 3.5.3: 250/251/252 or 550/551/553; 502 where not implemented (3.5.2, 7.3).
                case VRFY -> expect(c, r, c.has(Flag.SYNTAX) ? Set.of(501, 502)
                        : Set.of(250, 251, 252, 502, 550, 551, 553));
                case EXPN -> expect(c, r, c.has(Flag.SYNTAX) ? Set.of(501, 502) : Set.of(250, 252, 502, 550));
                case HELP -> expect(c, r, Set.of(211, 214, 502)); // 4.1.1.8, 4.3.2
                case QUIT -> {
                    // 4.1.1.10: 221, then close; an open transaction is abandoned.
                    expect(c, r, Set.of(221));
                    resetTx();
                    closed = true;
                }
                // Not advertised (checkEhlo): 454 (RFC 3207 4) or "not implemented" 502 / 500 (RFC 5321 4.2.4).
                case STARTTLS -> expect(c, r, Set.of(454, 500, 502));
                case UNKNOWN -> expect(c, r, Set.of(500)); // 4.2.4
                case OBSOLETE -> expect(c, r, Set.of(500, 502)); // 4.2.4, F.1-F.3
                // Empty, over-long and bare-LF lines: 500 (4.2.4, 4.5.3.1.4, Tern's notes at raw()); no effect.
                case RAW -> expect(c, r, Set.of(500));
                default -> fail("unmodelled " + c);
            }
            return false;
        }

        /** RFC 5321 4.1.4/3.3: MAIL, RCPT, DATA and BDAT need a greeting; RCPT, DATA and BDAT need a MAIL. */
        private void sequence(Set<Integer> refuse) {
            if (greeting == Greeting.NONE || !inTx) {
                refuse.add(503);
            }
        }

        private void mail(Cmd c, Reply r) {
            Set<Integer> refuse = new TreeSet<>();
            Set<Integer> mayRefuse = new TreeSet<>();
            if (greeting == Greeting.NONE || inTx) {
                refuse.add(503); // 4.1.4: no greeting yet / MAIL inside a transaction
            }
            pathAndParams(c, refuse, mayRefuse);
            if (c.size() > MAX_SIZE) {
                refuse.add(552); // RFC 1870 6.1: the declared size exceeds the fixed limit
            }
            if (decide(c, r, refuse, mayRefuse)) {
                inTx = true;
                sender = c.mailbox();
                rcpts.clear();
                clearBdat();
            }
        }

        private void rcpt(Cmd c, Reply r) {
            Set<Integer> refuse = new TreeSet<>();
            Set<Integer> mayRefuse = new TreeSet<>();
            sequence(refuse);
            pathAndParams(c, refuse, mayRefuse);
            if (!trusted) {
                // RFC 5321 3.6.2, 7.1: a relay may refuse clients it does not serve (550, 551, 553, 554 are used;
                // Tern: 554 5.7.1, architecture.md). 4.5.1 exempts <Postmaster>: see postmasterIsAcceptedFromAnyClient.
                Set<Integer> denied = Set.of(550, 551, 553, 554);
                if (c.has(Flag.POSTMASTER) && !strictPostmaster) {
                    mayRefuse.addAll(denied);
                } else if (!c.has(Flag.POSTMASTER)) {
                    refuse.addAll(denied);
                }
            }
            if (rcpts.size() >= MAX_RCPTS) {
                // 4.5.3.1.10: 452 for too many recipients; clients must treat an old-style 552 the same way.
                refuse.addAll(Set.of(452, 552));
            }
            if (bdat) {
                // RFC 3030 does not say whether RCPT may come between chunks: either answer.
                mayRefuse.add(503);
            }
            if (decide(c, r, refuse, mayRefuse)) {
                rcpts.add(c.has(Flag.POSTMASTER) ? settings.postmaster().orElse(c.mailbox()) : c.mailbox());
            }
        }

        private void pathAndParams(Cmd c, Set<Integer> refuse, Set<Integer> mayRefuse) {
            if (c.has(Flag.SYNTAX) || c.has(Flag.BAD_PATH)) {
                refuse.addAll(Set.of(501, 553)); // 4.3.2: syntax error / mailbox name not allowed
            }
            if (c.has(Flag.LENIENT_PATH)) {
                mayRefuse.addAll(Set.of(501, 553)); // not 4.1.2 syntax, but widely accepted: either
            }
            if (c.has(Flag.UNKNOWN_PARAM)) {
                refuse.addAll(Set.of(555, 501, 504)); // 4.1.1.11: 555; 501/504 are also used
            }
            if (c.has(Flag.BAD_PARAM)) {
                refuse.addAll(Set.of(501, 555, 504));
            }
            if (c.has(Flag.PARAMS) && greeting == Greeting.HELO) {
                // Service extensions are in force only after EHLO (RFC 5321 2.2.1); after HELO a server may
                // refuse the parameters (555) or accept them: either.
                mayRefuse.addAll(Set.of(555, 501, 504));
            }
        }

        /** Checks a reply that must be a refusal (if {@code refuse} is not empty), else 250 or a permitted refusal. */
        private boolean decide(Cmd c, Reply r, Set<Integer> refuse, Set<Integer> mayRefuse) {
            Set<Integer> allowed = new TreeSet<>(mayRefuse);
            allowed.addAll(refuse);
            if (refuse.isEmpty()) {
                allowed.add(250);
            }
            expect(c, r, allowed);
            return r.code() == 250;
        }

        private void bdat(Cmd c, Reply r) {
            if (c.has(Flag.SYNTAX)) {
                // 501; the transaction is lost: Tern's documented choice (SessionEngine#command: "A malformed BDAT
                // has no usable chunk size ... the transaction is lost"). 500 or 503 would also be fair answers.
                expect(c, r, Set.of(500, 501, 503));
                resetTx();
                return;
            }
            Set<Integer> refuse = new TreeSet<>();
            sequence(refuse);
            if (inTx && rcpts.isEmpty()) {
                refuse.addAll(Set.of(503, 554)); // RFC 5321 3.3, as for DATA
            }
            if (!refuse.isEmpty()) {
                // The chunk is read and dropped either way (RFC 3030 2; SessionEngine#bdat: "The chunk's octets are
                // always read, even when the command is refused"), and a failed BDAT fails the transaction.
                expect(c, r, refuse);
                resetTx();
                return;
            }
            long total = bdatSize + c.size();
            boolean over = total > MAX_SIZE;
            boolean maybeOver = total > MAX_SIZE - SIZE_MARGIN;
            boolean longLine = bdatLongLine || c.has(Flag.LONG_LINE);
            Set<Integer> allowed = new TreeSet<>();
            if (c.has(Flag.LAST)) {
                // RFC 1870 6.3 / 5321 4.5.3.1.10: 552 over the size; a line over 4.5.3.1.6 is refused with 550
                // (Tern's choice, Replies.DATA_LINE_TOO_LONG); otherwise 250 and the message is stored.
                if (longLine) {
                    allowed.add(550);
                }
                if (over || bdatOver) {
                    allowed.add(552);
                }
                if (allowed.isEmpty()) {
                    allowed.add(250);
                    if (maybeOver) {
                        allowed.add(552);
                    }
                }
            } else {
                // A chunk that breaks a limit may be refused at once or accepted and the message refused at LAST.
                allowed.add(250);
                if (longLine) {
                    allowed.add(550);
                }
                if (maybeOver) {
                    allowed.add(552);
                }
            }
            expect(c, r, allowed);
            if (r.code() != 250) {
                resetTx(); // RFC 3030 2: a 4xx/5xx chunk fails the transaction
                return;
            }
            bdat = true;
            bdatSize = total;
            bdatContent.append(c.stored());
            bdatLongLine = longLine;
            bdatOver |= over;
            if (c.has(Flag.LAST)) {
                accepted.add(new Message(sender, List.copyOf(rcpts), bdatContent.toString()));
                resetTx();
            }
        }

        /** The reply to the end of DATA content (RFC 5321 4.1.1.4): the transaction ends either way. */
        private void endOfData(Cmd c, Reply r) {
            Set<Integer> allowed = new TreeSet<>();
            if (c.has(Flag.LONG_LINE)) {
                allowed.add(550); // Tern's choice, Replies.DATA_LINE_TOO_LONG (4.5.3.1.6)
            }
            if (c.size() > MAX_SIZE) {
                allowed.add(552); // RFC 1870 6.3
            }
            if (allowed.isEmpty()) {
                allowed.add(250);
                if (c.size() > MAX_SIZE - SIZE_MARGIN) {
                    allowed.add(552);
                }
            }
            countRefusal(r);
            expect(c, r, allowed);
            if (r.code() == 250) {
                accepted.add(new Message(sender, List.copyOf(rcpts), c.stored()));
            }
            resetTx();
        }

        private void resetTx() {
            inTx = false;
            sender = null;
            rcpts.clear();
            clearBdat();
        }

        private void clearBdat() {
            bdat = false;
            bdatSize = 0;
            bdatContent.setLength(0);
            bdatLongLine = false;
            bdatOver = false;
        }

        /** RFC 1870 4, RFC 2920 2, RFC 3030 2: the extensions this test uses are advertised; STARTTLS is not. */
        private void checkEhlo(Reply r) {
            List<String> keywords = r.lines().stream().skip(1).map(l -> l.substring(4)).toList();
            check(keywords.contains("PIPELINING"), "EHLO advertises PIPELINING: " + r);
            check(keywords.contains("CHUNKING"), "EHLO advertises CHUNKING: " + r);
            check(keywords.contains("SIZE " + MAX_SIZE), "EHLO advertises SIZE " + MAX_SIZE + ": " + r);
            check(!keywords.contains("STARTTLS"), "STARTTLS is answered 502, so it must not be advertised: " + r);
        }

        private void expect(Cmd c, Reply r, Set<Integer> allowed) {
            check(allowed.contains(r.code()), "reply to " + c + " was " + r + ", expected one of " + allowed
                    + " (greeting=" + greeting + " inTx=" + inTx + " rcpts=" + rcpts + " bdat=" + bdat + ")");
        }

        private void checkJournal() {
            List<MemoryJournal.Stored> stored = journal.stored();
            check(stored.size() == accepted.size(), "journal holds " + stored.size() + " messages, model accepted "
                    + accepted.size());
            for (int i = 0; i < stored.size(); i++) {
                EnvelopeRecord e = stored.get(i).envelope();
                Message m = accepted.get(i);
                List<String> to = e.recipients().stream().map(EnvelopeRecord.Recipient::address).toList();
                check(e.sender().equals(m.sender()), "message " + i + " sender " + e.sender() + " != " + m.sender());
                check(to.equals(m.recipients()), "message " + i + " recipients " + to + " != " + m.recipients());
                String body = stored.get(i).bodyText();
                check(body.startsWith("Received: ") && body.endsWith(m.content()),
                        "message " + i + " body " + escape(abbreviate(body)) + " does not end with "
                                + escape(abbreviate(m.content())));
                // Nothing after the Received header but the content: its last line ends where the content starts.
                String head = body.substring(0, body.length() - m.content().length());
                check(head.endsWith("\r\n") && !head.contains("\r\n\r\n"), "message " + i + " head " + escape(head));
            }
        }

        /**
         * Splits output into replies: lines end with CRLF (4.2), hold at most 512 octets (4.5.3.1.5), start with a
         * code 2xx-5xx; a multi-line reply is "code-" lines and a last "code " line, all with one code (4.2.1).
         */
        private List<Reply> parse(String out) {
            List<Reply> replies = new ArrayList<>();
            check(out.isEmpty() || out.endsWith("\r\n"), "output does not end with CRLF: " + escape(out));
            List<String> lines = new ArrayList<>();
            for (String line : out.split("\r\n", -1)) {
                lines.add(line);
            }
            lines.removeLast(); // after the last CRLF
            List<String> current = new ArrayList<>();
            int code = -1;
            for (String line : lines) {
                check(!line.contains("\r") && !line.contains("\n"), "bare CR or LF in reply " + escape(line));
                check(line.length() + 2 <= 512, "reply line over 512 octets");
                check(line.matches("[2-5][0-9][0-9]([ -].*)?"), "malformed reply line " + escape(line));
                int c = Integer.parseInt(line.substring(0, 3));
                check(code < 0 || c == code, "multi-line reply changes code: " + escape(line));
                code = c;
                current.add(line);
                if (line.length() == 3 || line.charAt(3) == ' ') {
                    replies.add(new Reply(code, List.copyOf(current)));
                    current.clear();
                    code = -1;
                }
            }
            check(current.isEmpty(), "unfinished multi-line reply " + current);
            return replies;
        }

        private void check(boolean condition, String what) {
            if (!condition) {
                throw new AssertionError(what + "\ntranscript:\n" + transcript);
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 100) + "...(" + s.length() + " octets)" : s;
    }

    static String escape(String s) {
        return s.replace("\r", "\\r").replace("\n", "\\n");
    }
}

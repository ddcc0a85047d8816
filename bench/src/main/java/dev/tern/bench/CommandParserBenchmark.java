package dev.tern.bench;

import dev.tern.protocol.Command;
import dev.tern.protocol.CommandParser;
import dev.tern.protocol.LineFramer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Framing + parsing of a realistic pipelined SMTP transaction (one op = one command line). Tern's path works on a
 * direct buffer and must show 0 B/op under {@code -prof gc}; the JDK baseline decodes to String, splits and uses
 * regexes, as a naive server would.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CommandParserBenchmark {
    static final String[] COMMANDS = {
        "EHLO client.example.org",
        "MAIL FROM:<alice.sender@example.org> SIZE=48213 BODY=8BITMIME",
        "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net",
        "RCPT TO:<carol@example.net>",
        "RCPT TO:<dave.long-name+tag@sub.example.com> NOTIFY=DELAY",
        "DATA",
        "RSET",
        "QUIT",
    };
    /** Must equal COMMANDS.length (checked in setup). */
    static final int LINES = 8;

    private static final Pattern MAIL = Pattern.compile("^MAIL FROM:<([^>]*)>(.*)$", Pattern.CASE_INSENSITIVE);
    private static final Pattern RCPT = Pattern.compile("^RCPT TO:<([^>]*)>(.*)$", Pattern.CASE_INSENSITIVE);

    private ByteBuffer stream;
    private byte[] streamBytes;
    private final LineFramer framer = new LineFramer(CommandParser.framerLimit(512));
    private final CommandParser parser = new CommandParser(512);
    private final Command command = new Command();

    @Setup
    public void setup() {
        if (COMMANDS.length != LINES) {
            throw new IllegalStateException("LINES must equal COMMANDS.length");
        }
        StringBuilder sb = new StringBuilder();
        for (String c : COMMANDS) {
            sb.append(c).append("\r\n");
        }
        streamBytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
        stream = ByteBuffer.allocateDirect(streamBytes.length);
        stream.put(streamBytes).flip();
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public int tern(Blackhole bh) {
        ByteBuffer in = stream;
        in.position(0);
        int sum = 0;
        while (framer.next(in) == LineFramer.LINE) {
            int status = parser.parse(in, framer.lineStart(), framer.lineEnd(), command);
            sum += status + command.verb().ordinal() + command.pathEnd() - command.pathStart();
            bh.consume(command.size());
            bh.consume(command.notifyFlags());
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public int jdkStringAndRegex(Blackhole bh) {
        String text = new String(streamBytes, StandardCharsets.US_ASCII);
        int sum = 0;
        for (String line : text.split("\r\n")) {
            String upper = line.toUpperCase(Locale.ROOT);
            String verb = upper.length() >= 4 ? upper.substring(0, 4) : upper;
            sum += verb.hashCode();
            Matcher m = null;
            if (verb.equals("MAIL")) {
                m = MAIL.matcher(line);
            } else if (verb.equals("RCPT")) {
                m = RCPT.matcher(line);
            }
            if (m != null && m.matches()) {
                String path = m.group(1);
                for (String param : m.group(2).trim().split(" +")) {
                    String[] kv = param.split("=", 2);
                    if (kv[0].equalsIgnoreCase("SIZE")) {
                        bh.consume(Long.parseLong(kv[1]));
                    } else if (kv[0].equalsIgnoreCase("NOTIFY")) {
                        bh.consume(kv[1].split(","));
                    }
                }
                sum += path.length();
            }
        }
        return sum;
    }
}

package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.config.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The generator's reply parser against generated server output (a seeded random loop, so a failure names its case):
 * well-formed replies of every shape parse to their codes, and malformed ones end in a {@link ProtocolException} or
 * an {@link EOFException}, never in another exception or a hang.
 */
@Timeout(60)
class SmtpClientRepliesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void everyWellFormedReplyParsesToItsCode() throws Exception {
        SplittableRandom random = new SplittableRandom(20261126);
        List<Integer> codes = new ArrayList<>();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int i = 0; i < 3000; i++) {
            int code = 200 + random.nextInt(400);
            codes.add(code);
            int lines = 1 + random.nextInt(random.nextInt(10) == 0 ? 40 : 4);
            for (int l = 0; l < lines; l++) {
                // RFC 5321 4.2: "code-text" on all lines but the last, "code SP text" or the bare code on the last.
                // Text of any printable length, beyond the 512 octets of 4.5.3.1.5 too: a long line is cut.
                boolean last = l == lines - 1;
                String text = text(random, random.nextInt(10) == 0 ? 3000 : 80);
                stream.writeBytes(ascii(code + (!last ? "-" + text : random.nextInt(10) == 0 ? "" : " " + text)));
                stream.writeBytes(ascii(random.nextInt(8) == 0 ? "\n" : "\r\n")); // bare LF from sloppy servers
            }
        }
        try (ServerSocket server = listen()) {
            Thread.ofVirtual().start(() -> serve(server, stream.toByteArray(), new SplittableRandom(7)));
            try (SmtpClient client = connect(server)) {
                for (int i = 0; i < codes.size(); i++) {
                    assertThat(client.readReply()).as("reply %d", i).isEqualTo(codes.get(i));
                }
            }
        }
    }

    @Test
    void malformedRepliesEndInAProtocolErrorOrEndOfStream() throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        try (ServerSocket server = listen()) {
            for (int i = 0; i < 300; i++) {
                byte[] bad = ascii(malformed(random));
                Thread.ofVirtual().start(() -> serve(server, bad, new SplittableRandom(bad.length)));
                try (SmtpClient client = connect(server)) {
                    assertThatThrownBy(() -> {
                        while (true) {
                            client.readReply();
                        }
                    }).as("case %d: %s", i, new String(bad, StandardCharsets.US_ASCII))
                            .isInstanceOfAny(ProtocolException.class, EOFException.class);
                }
            }
        }
    }

    /** Output a server must not send: a bad code, a short line, or a stream that ends inside a reply. */
    private static String malformed(SplittableRandom random) {
        String prefix = random.nextBoolean() ? "250 fine\r\n" : "";
        return prefix + switch (random.nextInt(6)) {
            case 0 -> (random.nextInt(200)) + " below range\r\n";                  // 000-199
            case 1 -> (600 + random.nextInt(400)) + " above range\r\n";          // 600-999
            case 2 -> "2" + (char) ('A' + random.nextInt(26)) + "0 letter in the code\r\n";
            case 3 -> "25\r\n";                                                    // shorter than a code
            case 4 -> "250-continued, then the connection ends";                  // no end of line, no last line
            default -> "250-" + text(random, 40) + "\r\n";                         // a last line never comes
        };
    }

    private static String text(SplittableRandom random, int maxLength) {
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(maxLength + 1);
        for (int i = 0; i < n; i++) {
            b.append((char) (' ' + random.nextInt(95)));
        }
        return b.toString();
    }

    /** Writes {@code bytes} in pieces of random sizes to the next client, then closes the connection. */
    private static void serve(ServerSocket server, byte[] bytes, SplittableRandom random) {
        try (Socket s = server.accept()) {
            OutputStream out = s.getOutputStream();
            for (int at = 0; at < bytes.length; ) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(2048));
                out.write(bytes, at, n);
                out.flush();
                at += n;
            }
        } catch (IOException e) {
            // the client gave up first: its assertion says why
        }
    }

    private static ServerSocket listen() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    private static SmtpClient connect(ServerSocket server) throws IOException {
        return SmtpClient.connect(new HostPort("127.0.0.1", server.getLocalPort()), TIMEOUT, TIMEOUT,
                SmtpClient.WORKER_READ, SmtpClient.WORKER_WRITE);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

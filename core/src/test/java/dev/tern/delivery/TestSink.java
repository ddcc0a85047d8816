package dev.tern.delivery;

import dev.tern.config.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A small scriptable SMTP server for delivery tests: per-recipient and end-of-data replies chosen by the test,
 * optional PIPELINING/CHUNKING/SIZE, slow replies, a disconnect in the middle of DATA. It records what arrived, both
 * as sent on the wire and after dot-unstuffing, and whether the client respected pipelining rules.
 */
final class TestSink implements AutoCloseable {

    /**
     * One message as received; {@code reads} is how many socket reads its transaction took, from the one that
     * brought MAIL to the one that brought the end of the content (1: the client sent it all in one go).
     */
    record Received(String mail, List<String> rcpts, byte[] wire, byte[] content, boolean bdat, int connection,
                    int reads) {
        String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    volatile boolean pipelining = true;
    volatile boolean chunking;
    volatile boolean ehlo = true;
    volatile boolean dsn;
    volatile boolean smtputf8;
    volatile boolean eightBitMime = true;
    volatile long size;
    volatile String greeting = "220 sink.test ESMTP";
    volatile long replyDelayMillis;
    volatile Function<String, String> mailReply = a -> "250 2.1.0 ok";
    volatile Function<String, String> rcptReply = a -> "250 2.1.5 ok";
    volatile Function<Received, String> dataReply = r -> "250 2.0.0 queued";
    final AtomicInteger disconnectsInData = new AtomicInteger();
    /** While set, the sink answers 354 and then stops reading (a peer that stalls the client's writes). */
    volatile boolean stallInData;

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger maxOpen = new AtomicInteger();
    final AtomicInteger rsets = new AtomicInteger();
    final AtomicInteger pipelinedBatches = new AtomicInteger();
    final AtomicInteger pipeliningViolations = new AtomicInteger();
    final AtomicInteger bareLineEndings = new AtomicInteger();
    final List<String> commands = new CopyOnWriteArrayList<>();
    final List<Long> transactionStartsNanos = new CopyOnWriteArrayList<>();
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private TestSink(String host, int port) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        acceptor = Thread.ofVirtual().start(this::acceptLoop);
    }

    static TestSink start() throws IOException {
        return new TestSink("127.0.0.1", 0);
    }

    /** A sink on a given loopback address and port (0: ephemeral); 127.0.0.2 and up are loopback on Linux. */
    static TestSink start(String host, int port) throws IOException {
        return new TestSink(host, port);
    }

    HostPort hostPort() {
        return new HostPort(server.getInetAddress().getHostAddress(), server.getLocalPort());
    }

    int port() {
        return server.getLocalPort();
    }

    /** Waits (bounded) for the next message. */
    Received next(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits (bounded) for {@code n} messages. */
    List<Received> take(int n, Duration timeout) throws InterruptedException {
        List<Received> out = new ArrayList<>();
        long end = System.nanoTime() + timeout.toNanos();
        while (out.size() < n) {
            long left = end - System.nanoTime();
            Received r = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
            if (r == null) {
                break;
            }
            out.add(r);
        }
        return out;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                int n = connections.incrementAndGet();
                Thread.ofVirtual().start(() -> serve(s, n));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, int connection) {
        int now = open.incrementAndGet();
        maxOpen.accumulateAndGet(now, Math::max);
        try (s) {
            s.setSoTimeout(10_000);
            Conversation c = new Conversation(s.getInputStream(), s.getOutputStream(), connection);
            c.run();
        } catch (IOException e) {
            // the client went away
        } finally {
            open.decrementAndGet();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        acceptor.interrupt();
    }

    /** One SMTP conversation, strictly sequential; replies are written as soon as a command is handled. */
    private final class Conversation {
        private final InputStream in;
        private final OutputStream out;
        private final int connection;
        private final byte[] buf = new byte[65536];
        private int pos;
        private int lim;
        private String mail;
        private final List<String> rcpts = new ArrayList<>();
        private final ByteArrayOutputStream bdat = new ByteArrayOutputStream();
        private int reads;
        private int readsAtMail;

        Conversation(InputStream in, OutputStream out, int connection) {
            this.in = in;
            this.out = out;
            this.connection = connection;
        }

        void run() throws IOException {
            reply(greeting);
            if (!greeting.startsWith("220")) {
                return;
            }
            while (true) {
                String line = readLine();
                if (line == null) {
                    return;
                }
                commands.add(line);
                String upper = line.toUpperCase(Locale.ROOT);
                boolean more = pos < lim;
                if (upper.startsWith("MAIL") && more) {
                    pipelinedBatches.incrementAndGet();
                }
                if (more && !pipelining && !upper.startsWith("BDAT")) {
                    pipeliningViolations.incrementAndGet();
                }
                if (upper.startsWith("EHLO")) {
                    if (!ehlo) {
                        reply("502 5.5.1 EHLO not implemented");
                        continue;
                    }
                    StringBuilder sb = new StringBuilder("250-sink.test");
                    if (pipelining) {
                        sb.append("\r\n250-PIPELINING");
                    }
                    if (chunking) {
                        sb.append("\r\n250-CHUNKING");
                    }
                    if (dsn) {
                        sb.append("\r\n250-DSN");
                    }
                    if (smtputf8) {
                        sb.append("\r\n250-SMTPUTF8");
                    }
                    if (size > 0) {
                        sb.append("\r\n250-SIZE ").append(size);
                    }
                    sb.append(eightBitMime ? "\r\n250 8BITMIME" : "\r\n250 HELP");
                    reply(sb.toString());
                } else if (upper.startsWith("HELO")) {
                    reply("250 sink.test");
                } else if (upper.startsWith("MAIL FROM:")) {
                    transactionStartsNanos.add(System.nanoTime());
                    readsAtMail = reads;
                    rcpts.clear();
                    bdat.reset();
                    String r = mailReply.apply(line.substring(10));
                    mail = r.startsWith("2") ? line.substring(10) : null;
                    if (!reply(r)) {
                        return;
                    }
                } else if (upper.startsWith("RCPT TO:")) {
                    String addr = line.substring(8);
                    int gt = addr.indexOf('>');
                    String bare = addr.substring(addr.indexOf('<') + 1, gt < 0 ? addr.length() : gt);
                    String r = mail == null ? "503 5.5.1 MAIL first" : rcptReply.apply(bare);
                    if (r.startsWith("2")) {
                        rcpts.add(bare);
                    }
                    if (!reply(r)) {
                        return;
                    }
                } else if (upper.equals("DATA")) {
                    if (mail == null || rcpts.isEmpty()) {
                        reply("554 5.5.1 no valid recipients");
                        continue;
                    }
                    reply("354 go ahead");
                    if (stallInData) {
                        try {
                            Thread.sleep(10_000);
                        } catch (InterruptedException e) {
                            return;
                        }
                        return;
                    }
                    if (!readData()) {
                        return;
                    }
                } else if (upper.startsWith("BDAT ")) {
                    String[] w = line.split(" ");
                    int n = Integer.parseInt(w[1]);
                    boolean accepted = mail != null && !rcpts.isEmpty();
                    if (accepted && n > 0 && disconnectsInData.getAndUpdate(k -> Math.max(0, k - 1)) > 0) {
                        readExactly(n / 2);
                        return; // drop the connection in the middle of the chunk
                    }
                    // RFC 3030 2: the chunk is consumed whatever the reply, so the dialogue stays in step.
                    byte[] chunk = readExactly(n);
                    if (chunk == null) {
                        return;
                    }
                    boolean last = w.length > 2 && w[2].equalsIgnoreCase("LAST");
                    if (!accepted) {
                        reply(mail == null ? "503 5.5.1 MAIL first" : "554 5.5.1 no valid recipients");
                        continue;
                    }
                    bdat.writeBytes(chunk);
                    if (last) {
                        byte[] all = bdat.toByteArray();
                        checkLineEndings(all);
                        if (!finish(all, all, true)) {
                            return;
                        }
                    } else {
                        reply("250 2.0.0 " + n + " octets");
                    }
                } else if (upper.equals("RSET")) {
                    rsets.incrementAndGet();
                    mail = null;
                    rcpts.clear();
                    reply("250 2.0.0 ok");
                } else if (upper.equals("QUIT")) {
                    reply("221 2.0.0 bye");
                    return;
                } else if (upper.equals("NOOP")) {
                    reply("250 2.0.0 ok");
                } else {
                    reply("500 5.5.2 unknown command");
                }
            }
        }

        private boolean readData() throws IOException {
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            boolean cut = disconnectsInData.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            ByteArrayOutputStream lineBuf = new ByteArrayOutputStream();
            while (true) {
                int b = readByte();
                if (b < 0) {
                    return false;
                }
                wire.write(b);
                lineBuf.write(b);
                if (cut && wire.size() >= 20) {
                    return false; // drop the connection in the middle of the content
                }
                if (b == '\n') {
                    byte[] line = lineBuf.toByteArray();
                    lineBuf.reset();
                    if (line.length == 3 && line[0] == '.' && line[1] == '\r') {
                        break;
                    }
                    int skip = line.length > 0 && line[0] == '.' ? 1 : 0;
                    content.write(line, skip, line.length - skip);
                }
            }
            byte[] w = wire.toByteArray();
            checkLineEndings(w);
            return finish(w, content.toByteArray(), false);
        }

        /** Returns false when the reply was a 421 and the connection is closed. */
        private boolean finish(byte[] wire, byte[] content, boolean viaBdat) throws IOException {
            Received r = new Received(mail, List.copyOf(rcpts), wire, content, viaBdat, connection,
                    reads - readsAtMail + 1);
            String reply = dataReply.apply(r);
            if (reply.startsWith("2")) {
                received.add(r);
            }
            mail = null;
            rcpts.clear();
            bdat.reset();
            return reply(reply);
        }

        private void checkLineEndings(byte[] w) {
            for (int i = 0; i < w.length; i++) {
                boolean bareCr = w[i] == '\r' && (i + 1 >= w.length || w[i + 1] != '\n');
                boolean bareLf = w[i] == '\n' && (i == 0 || w[i - 1] != '\r');
                if (bareCr || bareLf) {
                    bareLineEndings.incrementAndGet();
                }
            }
        }

        /** Writes a reply; after a 421 it closes the connection (RFC 5321 3.8) and returns false. */
        private boolean reply(String r) throws IOException {
            if (replyDelayMillis > 0) {
                try {
                    Thread.sleep(replyDelayMillis);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            out.write((r + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return !r.startsWith("421");
        }

        private int readByte() throws IOException {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                reads++;
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    return -1;
                }
            }
            return buf[pos++] & 0xff;
        }

        private String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (line.size() < 10_000) {
                int b = readByte();
                if (b < 0) {
                    return null;
                }
                if (b == '\n') {
                    byte[] l = line.toByteArray();
                    int n = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
                    return new String(l, 0, n, StandardCharsets.UTF_8);
                }
                line.write(b);
            }
            return null;
        }

        private byte[] readExactly(int n) throws IOException {
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                int b = readByte();
                if (b < 0) {
                    return null;
                }
                out[i] = (byte) b;
            }
            return out;
        }
    }
}

package dev.tern.admin;

import dev.tern.config.HostPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A next hop for {@link QueueOperationsProperties}: an SMTP server (no PIPELINING, no CHUNKING: one command, one
 * reply) whose RCPT replies are scripted per recipient address, which records every transaction with the time its
 * MAIL arrived, and which can hold the reply to one sender's end of data until released (a delivery in flight).
 * (The delivery package's {@code TestSink} is package-private there.)
 */
final class QueueHop implements AutoCloseable {

    /** One transaction: its MAIL sender, when MAIL arrived, the recipients accepted, whether the content was taken. */
    static final class Txn {
        final String sender;
        final long startMillis;
        final List<String> accepted = new CopyOnWriteArrayList<>();
        final List<String> refused = new CopyOnWriteArrayList<>();
        volatile boolean delivered;
        volatile long endMillis;

        Txn(String sender, long startMillis) {
            this.sender = sender;
            this.startMillis = startMillis;
        }

        @Override
        public String toString() {
            return sender + "@" + startMillis + " ok=" + accepted + " refused=" + refused
                    + (delivered ? " delivered@" + endMillis : "");
        }
    }

    /** RCPT replies by bare address; an address not listed is accepted. */
    final Map<String, String> rcptReplies = new ConcurrentHashMap<>();
    final List<Txn> txns = new CopyOnWriteArrayList<>();
    private volatile String holdSender;
    private volatile CountDownLatch holding = new CountDownLatch(1);
    private volatile CountDownLatch release = new CountDownLatch(1);

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    QueueHop() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().name("queue-hop-accept").start(this::acceptLoop);
    }

    HostPort hostPort() {
        return new HostPort(server.getInetAddress().getHostAddress(), server.getLocalPort());
    }

    /** Holds the end-of-data reply of the next transaction from {@code sender} until {@link #release()}. */
    void hold(String sender) {
        holding = new CountDownLatch(1);
        release = new CountDownLatch(1);
        holdSender = sender;
    }

    /** Waits until the held transaction's content has arrived (its reply not sent yet). */
    boolean awaitHolding(long millis) throws InterruptedException {
        return holding.await(millis, TimeUnit.MILLISECONDS);
    }

    void release() {
        holdSender = null;
        release.countDown();
    }

    List<Txn> txnsOf(String sender) {
        List<Txn> out = new ArrayList<>();
        for (Txn t : txns) {
            if (t.sender.equals(sender)) {
                out.add(t);
            }
        }
        return out;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread.ofVirtual().name("queue-hop").start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            reply(out, "220 hop.test ESMTP");
            Txn txn = null;
            String line;
            while ((line = in.readLine()) != null) {
                String upper = line.toUpperCase(Locale.ROOT);
                if (upper.startsWith("EHLO")) {
                    reply(out, "250-hop.test\r\n250 8BITMIME");
                } else if (upper.startsWith("HELO")) {
                    reply(out, "250 hop.test");
                } else if (upper.startsWith("MAIL FROM:")) {
                    String addr = line.substring(10);
                    txn = new Txn(bare(addr), System.currentTimeMillis());
                    txns.add(txn);
                    reply(out, "250 2.1.0 ok");
                } else if (upper.startsWith("RCPT TO:")) {
                    String addr = bare(line.substring(8));
                    String r = txn == null ? "503 5.5.1 MAIL first" : rcptReplies.getOrDefault(addr, "250 2.1.5 ok");
                    if (txn != null) {
                        (r.startsWith("2") ? txn.accepted : txn.refused).add(addr);
                    }
                    reply(out, r);
                } else if (upper.equals("DATA")) {
                    if (txn == null || txn.accepted.isEmpty()) {
                        reply(out, "554 5.5.1 no valid recipients");
                        continue;
                    }
                    reply(out, "354 go ahead");
                    String l;
                    while ((l = in.readLine()) != null && !l.equals(".")) {
                        // content dropped: the transaction's sender names the message
                    }
                    if (l == null) {
                        return;
                    }
                    if (txn.sender.equals(holdSender)) {
                        CountDownLatch r = release;
                        holding.countDown();
                        r.await(5, TimeUnit.SECONDS);
                    }
                    txn.endMillis = System.currentTimeMillis();
                    txn.delivered = true;
                    txn = null;
                    reply(out, "250 2.0.0 queued");
                } else if (upper.equals("RSET")) {
                    txn = null;
                    reply(out, "250 2.0.0 ok");
                } else if (upper.equals("QUIT")) {
                    reply(out, "221 2.0.0 bye");
                    return;
                } else if (upper.equals("NOOP")) {
                    reply(out, "250 2.0.0 ok");
                } else {
                    reply(out, "500 5.5.2 unknown command");
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away, or the hop is closing
        }
    }

    private static String bare(String path) {
        int lt = path.indexOf('<');
        int gt = path.indexOf('>');
        return lt < 0 || gt < lt ? path.trim() : path.substring(lt + 1, gt);
    }

    private static void reply(OutputStream out, String r) throws IOException {
        out.write((r + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}

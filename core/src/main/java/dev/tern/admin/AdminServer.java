package dev.tern.admin;

import dev.tern.buffer.Ascii;
import dev.tern.delivery.DeliveryEngine;
import dev.tern.journal.Journal;
import dev.tern.journal.JournalException;
import dev.tern.journal.JournalReader;
import dev.tern.journal.QueuedMessage;
import dev.tern.message.QueueId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running relay's control socket: a Unix domain socket {@code admin.sock} in the data directory, readable and
 * writable by the relay's user only, so that file permissions are the access control (no network port to guard).
 * One request line per connection ({@code list}, {@code show ID}, {@code stats}, {@code flush}, {@code delete ID});
 * the answer is text lines, the last one {@code OK} or {@code ERR reason}.
 *
 * <p>Threading: an acceptor virtual thread and one virtual thread per request.
 */
public final class AdminServer implements AutoCloseable {
    public static final String SOCKET_NAME = "admin.sock";
    /** sun_path in struct sockaddr_un is 108 bytes on Linux, its terminating NUL included. */
    private static final int MAX_SOCKET_PATH = 108;
    /** The longest request line; the longest real one ({@code delete ID}) has 23 bytes. */
    static final int MAX_REQUEST = 1024;
    /** How long a connection may last, request and answer together, before it is dropped. */
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(30);
    /** Input after the request line that is read and dropped before closing (beyond it, the client is reset). */
    private static final int MAX_DISCARD = 1 << 20;
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final ServerSocketChannel server;
    private final Path path;
    private final Journal journal;
    private final DeliveryEngine delivery;
    private final Thread acceptor;
    private final Duration connectionTimeout;

    private AdminServer(ServerSocketChannel server, Path path, Journal journal, DeliveryEngine delivery,
                        Duration connectionTimeout) {
        this.server = server;
        this.path = path;
        this.journal = journal;
        this.delivery = delivery;
        this.connectionTimeout = connectionTimeout;
        this.acceptor = Thread.ofVirtual().name("tern-admin").start(this::acceptLoop);
    }

    /**
     * Binds {@code dataDir/admin.sock} (replacing a stale one left by a killed relay). Returns null, with a warning,
     * when the socket cannot be bound: the relay serves mail without it, only {@code tern queue} cannot reach it.
     */
    public static AdminServer start(Path dataDir, Journal journal, DeliveryEngine delivery) throws IOException {
        return start(dataDir, journal, delivery, CONNECTION_TIMEOUT);
    }

    /** {@link #start(Path, Journal, DeliveryEngine)} with another connection timeout (tests). */
    static AdminServer start(Path dataDir, Journal journal, DeliveryEngine delivery, Duration connectionTimeout)
            throws IOException {
        Path path = dataDir.resolve(SOCKET_NAME).toAbsolutePath();
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(address(path));
        } catch (IOException e) {
            server.close();
            log.warn("admin socket {} unavailable ({}): 'tern queue stats/flush/delete' cannot reach this relay;"
                    + " a shorter --data-dir path fixes it", path, e.getMessage());
            return null;
        }
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            log.warn("cannot restrict permissions of {}", path);
        }
        return new AdminServer(server, path, journal, delivery, connectionTimeout);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                Thread.ofVirtual().name("tern-admin-request").start(() -> serve(ch));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("admin socket accept failed", e);
                }
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        // A client that stalls (never finishes its request, never reads the answer) must not hold a thread and a
        // descriptor for good.
        Thread watchdog = Thread.ofVirtual().name("tern-admin-timeout").start(() -> {
            try {
                Thread.sleep(connectionTimeout);
                ch.close();
            } catch (InterruptedException | IOException e) {
                // the exchange ended in time, or the connection is already gone
            }
        });
        try (ch; PrintWriter out = new PrintWriter(Channels.newOutputStream(ch), false, StandardCharsets.UTF_8)) {
            String line = readRequest(ch);
            try {
                if (line == null) {
                    throw new IllegalArgumentException("request longer than " + MAX_REQUEST + " bytes");
                }
                answer(line.trim(), out);
                out.println("OK");
            } catch (IllegalArgumentException | JournalException e) {
                out.println("ERR " + Ascii.printable(e.getMessage())); // it may quote the request
            }
            out.flush();
            ch.shutdownOutput();
            discardUnread(ch);
        } catch (IOException e) {
            log.debug("admin request failed", e);
        } finally {
            watchdog.interrupt();
        }
    }

    /**
     * Reads and drops what the client sent after its request line, up to its end of input: closing a Unix socket with
     * unread input resets the connection, and the client would lose the answer.
     */
    private static void discardUnread(SocketChannel ch) throws IOException {
        ByteBuffer sink = ByteBuffer.allocate(8192);
        int n;
        for (int total = 0; total < MAX_DISCARD && (n = ch.read(sink.clear())) >= 0; total += n) {
            // dropped
        }
    }

    /**
     * The request: the bytes up to the first CR or LF or the end of input, or null when they exceed
     * {@link #MAX_REQUEST}.
     */
    private static String readRequest(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(MAX_REQUEST + 1);
        while (buf.hasRemaining()) {
            int start = buf.position();
            if (ch.read(buf) < 0) {
                break;
            }
            for (int i = start; i < buf.position(); i++) {
                if (buf.get(i) == '\n' || buf.get(i) == '\r') {
                    return new String(buf.array(), 0, i, StandardCharsets.UTF_8);
                }
            }
        }
        return buf.position() > MAX_REQUEST ? null : new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }

    private void answer(String request, PrintWriter out) throws JournalException {
        String[] words = request.split("\\s+");
        switch (words[0]) {
            case "list" -> QueueFormat.list(journal.pending(), System.currentTimeMillis()).forEach(out::println);
            case "show" -> {
                QueuedMessage m = journal.find(QueueId.parse(arg(words))).orElseThrow(
                        () -> new IllegalArgumentException("no queued message " + arg(words)));
                QueueFormat.show(m, headers(m.queueId()), System.currentTimeMillis()).forEach(out::println);
            }
            case "stats" -> {
                out.println(QueueFormat.journalStats(journal.stats()));
                if (delivery != null) {
                    QueueFormat.deliveryStats(delivery.stats()).forEach(out::println);
                } else {
                    out.println("delivery: disabled");
                }
            }
            case "flush" -> {
                requireDelivery();
                delivery.flush();
                out.println("flushed: deferred mail is being retried now");
            }
            case "delete" -> {
                requireDelivery();
                long id = QueueId.parse(arg(words));
                if (delivery.delete(id) == 0) {
                    throw new IllegalArgumentException("no queued message " + arg(words));
                }
                out.println("deleted " + QueueId.format(id));
            }
            default -> throw new IllegalArgumentException("unknown request '" + words[0]
                    + "' (list, show ID, stats, flush, delete ID)");
        }
    }

    private String headers(long queueId) throws JournalException {
        return JournalReader.headerSection(consumer -> journal.readBody(queueId, consumer));
    }

    private void requireDelivery() {
        if (delivery == null) {
            throw new IllegalArgumentException("delivery is disabled on this relay");
        }
    }

    private static String arg(String[] words) {
        if (words.length < 2) {
            throw new IllegalArgumentException(words[0] + " needs a queue id");
        }
        return words[1];
    }

    @Override
    public void close() throws IOException {
        server.close();
        acceptor.interrupt();
        Files.deleteIfExists(path);
    }

    /**
     * The socket's address: the absolute path when it fits a Unix socket address (108 bytes on Linux), else the same
     * path relative to the working directory, which is often short enough.
     */
    static UnixDomainSocketAddress address(Path path) {
        Path absolute = path.toAbsolutePath();
        if (absolute.toString().getBytes(StandardCharsets.UTF_8).length < MAX_SOCKET_PATH) {
            return UnixDomainSocketAddress.of(absolute);
        }
        return UnixDomainSocketAddress.of(Path.of("").toAbsolutePath().relativize(absolute));
    }

    /** Sends one request to the relay whose data directory is {@code dataDir}; empty when no relay is running. */
    public static Optional<List<String>> request(Path dataDir, String request) throws IOException {
        Path path = dataDir.resolve(SOCKET_NAME);
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        try (SocketChannel ch = SocketChannel.open(address(path))) {
            ch.write(StandardCharsets.UTF_8.encode(request + "\n"));
            ch.shutdownOutput();
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8));
            return Optional.of(in.lines().toList());
        } catch (java.net.SocketException e) {
            // a stale socket file from a relay that was killed, or a path no Unix socket can have
            return Optional.empty();
        }
    }
}

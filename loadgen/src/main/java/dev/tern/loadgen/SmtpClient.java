package dev.tern.loadgen;

import dev.tern.config.HostPort;
import dev.tern.io.DeadlineSweeper;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSocket;

/**
 * The client side of one SMTP connection for the load generator: buffered writes, and replies parsed in place
 * (code and continuation marker) without allocating. Uses {@link Socket} rather than a channel because its read
 * timeout also works on virtual threads.
 *
 * <p>A connection opened with {@link #connectWatched} has no socket timeouts, so its socket stays in blocking mode
 * and each read and write (on a platform thread) is one plain system call; a {@link DeadlineSweeper} enforces its
 * connect and reply timeouts by calling {@link #expire(long)}.
 *
 * <p>{@link #startTls} upgrades the connection to TLS (RFC 3207); the reads and writes then go through the TLS socket
 * layered over the plain one, and closing the plain socket still ends both.
 *
 * <p>Not thread-safe: owned by one worker. {@link #close()} and {@link #expire(long)} may be called from
 * another thread to abort it.
 */
final class SmtpClient implements AutoCloseable, DeadlineSweeper.Expirable {
    // RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets; longer ones are cut, not rejected.
    private static final int MAX_LINE = 1024;
    /** Buffer sizes of a connection that sends messages: replies are small, content goes out in big writes. */
    static final int WORKER_READ = 4 * 1024;
    static final int WORKER_WRITE = 32 * 1024;
    /** Buffer sizes of an idle session, of which there may be tens of thousands. */
    static final int IDLE_READ = 512;
    static final int IDLE_WRITE = 128;
    private static final byte[] QUEUED_AS = "queued as ".getBytes(StandardCharsets.US_ASCII);
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private final Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] readBuffer;
    private int readPos;
    private int readLimit;
    private final byte[] writeBuffer;
    private int writeLength;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private boolean pipelining;
    private boolean chunking;
    private boolean startTlsOffered;
    /** The TLS layer after {@link #startTls}, else null. */
    private SSLSocket tls;
    /** Reply timeout enforced by the sweeper (0: the socket's own SO_TIMEOUT does it). */
    private final long watchedTimeoutNanos;
    /** nanoTime by which the current blocking call must end, or {@link #NO_DEADLINE}; read by the sweeper. */
    private volatile long deadline = NO_DEADLINE;
    private volatile boolean expired;

    private SmtpClient(Socket socket, int readSize, int writeSize, long watchedTimeoutNanos) {
        this.socket = socket;
        this.readBuffer = new byte[readSize];
        this.writeBuffer = new byte[writeSize];
        this.watchedTimeoutNanos = watchedTimeoutNanos;
    }

    /**
     * Opens a TCP connection with buffers of the given sizes, whose reads time out after {@code replyTimeout}; the
     * caller reads the greeting.
     */
    static SmtpClient connect(HostPort target, Duration connectTimeout, Duration replyTimeout, int readSize,
                              int writeSize) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(target.host(), target.port()), (int) connectTimeout.toMillis());
            socket.setSoTimeout((int) Math.clamp(replyTimeout.toMillis(), 1, Integer.MAX_VALUE));
            SmtpClient c = new SmtpClient(socket, readSize, writeSize, 0);
            c.in = socket.getInputStream();
            c.out = socket.getOutputStream();
            return c;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Opens a TCP connection without socket timeouts and registered with {@code sweeper}, which closes it when the
     * connect or a later read or write takes longer than its timeout (the caller then gets a
     * {@link SocketTimeoutException}). A connect with a timeout would switch the socket to non-blocking mode for
     * good, and every read would then cost a failed read and a poll. The caller reads the greeting, and calls
     * {@link DeadlineSweeper#unregister} when it closes the connection.
     */
    static SmtpClient connectWatched(HostPort target, Duration connectTimeout, Duration replyTimeout,
                                     DeadlineSweeper sweeper, int readSize, int writeSize) throws IOException {
        Socket socket = new Socket();
        SmtpClient c = new SmtpClient(socket, readSize, writeSize, replyTimeout.toNanos());
        sweeper.register(c);
        try {
            socket.setTcpNoDelay(true);
            c.deadline = System.nanoTime() + connectTimeout.toNanos();
            socket.connect(new InetSocketAddress(target.host(), target.port()));
            c.deadline = NO_DEADLINE;
            c.in = socket.getInputStream();
            c.out = socket.getOutputStream();
            return c;
        } catch (IOException e) {
            sweeper.unregister(c);
            socket.close();
            throw c.expired ? timedOut(e) : e;
        } catch (RuntimeException e) {
            sweeper.unregister(c);
            socket.close();
            throw e;
        }
    }

    /** Sends EHLO and reads the reply, noting PIPELINING, CHUNKING and STARTTLS; returns the reply code. */
    int ehlo(String helo) throws IOException {
        append("EHLO ").append(helo).append("\r\n").flush();
        pipelining = false;
        chunking = false;
        startTlsOffered = false;
        while (true) {
            readLine();
            if (lineLength > 4) {
                pipelining |= keywordIs("PIPELINING");
                chunking |= keywordIs("CHUNKING");
                startTlsOffered |= keywordIs("STARTTLS");
            }
            if (lineLength < 4 || line[3] != '-') {
                return code();
            }
        }
    }

    /** Changes how long a read may wait (the socket's SO_TIMEOUT). */
    void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout(Math.clamp(timeout.toMillis(), 1, Integer.MAX_VALUE));
    }

    boolean pipelining() {
        return pipelining;
    }

    boolean chunking() {
        return chunking;
    }

    /** Whether the last EHLO reply offered STARTTLS. */
    boolean startTlsOffered() {
        return startTlsOffered;
    }

    /**
     * Sends STARTTLS (RFC 3207) and returns the reply's code. On 220 it has also completed the TLS handshake with
     * {@code client}; the caller must then send EHLO again, since server and client forget what the first one said.
     * Any other reply leaves the connection in plaintext.
     *
     * @throws StartTlsException when the server sent more after its 220 before TLS began: a client must not read
     *                           it as a reply inside TLS (the client side of CVE-2011-0411's injection)
     */
    int startTls(ClientTls client, HostPort target) throws IOException {
        append("STARTTLS\r\n").flush();
        int code = readReply();
        if (code != 220) {
            return code;
        }
        if (readPos != readLimit) {
            throw new StartTlsException("starttls-plaintext-after-220",
                    "the server sent plaintext after its 220 to STARTTLS, before TLS began");
        }
        watchFor(watchedTimeoutNanos);
        try {
            tls = client.handshake(socket, target.host(), target.port());
            in = tls.getInputStream();
            out = tls.getOutputStream();
        } catch (IOException e) {
            throw expired ? timedOut(e) : e;
        } finally {
            deadline = NO_DEADLINE;
        }
        pipelining = false;
        chunking = false;
        startTlsOffered = false;
        return code;
    }

    /** The TLS protocol and cipher suite, as in "TLSv1.3 TLS_AES_128_GCM_SHA256", or null before STARTTLS. */
    String tlsDescription() {
        SSLSocket s = tls;
        return s == null ? null : s.getSession().getProtocol() + " " + s.getSession().getCipherSuite();
    }

    /** Reads one complete (possibly multi-line) reply and returns its code. */
    int readReply() throws IOException {
        while (true) {
            readLine();
            if (lineLength < 4 || line[3] != '-') {
                return code();
            }
        }
    }

    /**
     * The queue id in the last reply line ({@code ... queued as ID}), else the text after the reply code; allocates,
     * so only called when ids are being written.
     */
    String lastReplyId() {
        int from = 4;
        for (int i = 0; i + QUEUED_AS.length <= lineLength; i++) {
            if (regionMatches(i, QUEUED_AS)) {
                from = i + QUEUED_AS.length;
                break;
            }
        }
        int to = from;
        while (to < lineLength && line[to] != ' ') {
            to++;
        }
        if (from == 4) {
            to = lineLength;
        }
        return new String(line, Math.min(from, lineLength), Math.max(0, to - from), StandardCharsets.US_ASCII);
    }

    SmtpClient append(String ascii) throws IOException {
        int n = ascii.length();
        if (writeLength + n > writeBuffer.length) {
            flush();
        }
        if (n > writeBuffer.length) {
            write(ascii.getBytes(StandardCharsets.US_ASCII), 0, n);
            return this;
        }
        for (int i = 0; i < n; i++) {
            writeBuffer[writeLength++] = (byte) ascii.charAt(i);
        }
        return this;
    }

    SmtpClient append(long number) throws IOException {
        if (writeLength + 20 > writeBuffer.length) {
            flush();
        }
        writeLength = Ascii.putLong(writeBuffer, writeLength, number);
        return this;
    }

    SmtpClient append(byte[] bytes, int offset, int length) throws IOException {
        if (writeLength + length > writeBuffer.length) {
            flush();
            if (length > writeBuffer.length / 2) {
                write(bytes, offset, length);
                return this;
            }
        }
        System.arraycopy(bytes, offset, writeBuffer, writeLength, length);
        writeLength += length;
        return this;
    }

    SmtpClient append(byte[] bytes) throws IOException {
        return append(bytes, 0, bytes.length);
    }

    void flush() throws IOException {
        if (writeLength > 0) {
            write(writeBuffer, 0, writeLength);
            writeLength = 0;
        }
    }

    /** Sends QUIT and waits for its reply; failures are ignored (the connection is being dropped anyway). */
    void quit() {
        try {
            append("QUIT\r\n").flush();
            readReply();
        } catch (IOException e) {
            // The server may close first; nothing to report.
        }
    }

    @Override
    public long deadlineNanos() {
        return deadline;
    }

    /**
     * Called by the sweeper once the connect, read or write under way has passed its deadline: closes the connection,
     * and its owner sees a {@link SocketTimeoutException}.
     */
    @Override
    public void expire(long now) {
        expired = true;
        deadline = NO_DEADLINE; // once is enough
        close();
    }

    /** Closes the plain socket, and with it the TLS layer over it, without a TLS close_notify (which could block). */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // Closing a socket that failed: nothing more to do.
        }
    }

    private void readLine() throws IOException {
        lineLength = 0;
        while (true) {
            if (readPos == readLimit) {
                int n = read();
                if (n < 0) {
                    throw new EOFException("connection closed by the server");
                }
                readPos = 0;
                readLimit = n;
            }
            while (readPos < readLimit) {
                byte b = readBuffer[readPos++];
                if (b == '\n') {
                    if (lineLength > 0 && line[lineLength - 1] == '\r') {
                        lineLength--;
                    }
                    if (lineLength < 3) {
                        throw new ProtocolException("malformed reply line");
                    }
                    return;
                }
                if (lineLength < MAX_LINE) {
                    line[lineLength++] = b;
                }
            }
        }
    }

    private int read() throws IOException {
        watchFor(watchedTimeoutNanos);
        try {
            return in.read(readBuffer, 0, readBuffer.length);
        } catch (IOException e) {
            throw expired ? timedOut(e) : e;
        } finally {
            deadline = NO_DEADLINE;
        }
    }

    /** The socket's output is unbuffered: one call, one system call. */
    private void write(byte[] bytes, int offset, int length) throws IOException {
        watchFor(watchedTimeoutNanos);
        try {
            out.write(bytes, offset, length);
        } catch (IOException e) {
            throw expired ? timedOut(e) : e;
        } finally {
            deadline = NO_DEADLINE;
        }
    }

    /** Arms the sweeper's deadline for the blocking call about to be made (unless the socket times out itself). */
    private void watchFor(long timeoutNanos) {
        if (timeoutNanos > 0) {
            deadline = System.nanoTime() + timeoutNanos;
        }
    }

    private static SocketTimeoutException timedOut(IOException cause) {
        SocketTimeoutException e = new SocketTimeoutException("timed out");
        e.initCause(cause);
        return e;
    }

    private int code() throws ProtocolException {
        int code = 0;
        for (int i = 0; i < 3; i++) {
            int d = line[i] - '0';
            if (d < 0 || d > 9) {
                throw new ProtocolException("malformed reply code");
            }
            code = code * 10 + d;
        }
        if (code < 200 || code > 599) {
            throw new ProtocolException("reply code out of range: " + code);
        }
        return code;
    }

    private boolean keywordIs(String keyword) {
        int end = 4 + keyword.length();
        if (lineLength < end || (lineLength > end && line[end] != ' ')) {
            return false;
        }
        for (int i = 0; i < keyword.length(); i++) {
            byte b = line[4 + i];
            if ((b >= 'a' && b <= 'z' ? b - 32 : b) != keyword.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean regionMatches(int at, byte[] lowerText) {
        for (int i = 0; i < lowerText.length; i++) {
            byte b = line[at + i];
            if ((b >= 'A' && b <= 'Z' ? b + 32 : b) != lowerText[i]) {
                return false;
            }
        }
        return true;
    }
}

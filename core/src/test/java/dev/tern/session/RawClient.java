package dev.tern.session;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A blocking test client that speaks raw bytes and reads whole SMTP replies (multi-line included). */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawClient(InetSocketAddress server) throws IOException {
        this(server, null, 5000, 10_000);
    }

    /** Connects from {@code localAddress} (null: any), as a given client address of 127.0.0.0/8 would. */
    public RawClient(InetSocketAddress server, InetAddress localAddress, int connectMillis, int readMillis)
            throws IOException {
        socket = new Socket();
        try {
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            socket.connect(server, connectMillis);
            socket.setSoTimeout(readMillis);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Writes the bytes in one write call (ISO-8859-1: each char is one octet). */
    public RawClient send(String bytes) throws IOException {
        out.write(bytes.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /** Reads one complete reply; its lines joined with "\n" (no CRLFs). Null at end of stream. */
    public String reply() throws IOException {
        StringBuilder all = new StringBuilder();
        while (true) {
            String line = line();
            if (line == null) {
                return all.isEmpty() ? null : all.toString();
            }
            if (!all.isEmpty()) {
                all.append('\n');
            }
            all.append(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return all.toString();
            }
        }
    }

    /** Reads until the server closes; returns what came. */
    public String readToEnd() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** True if the server closed the connection (EOF or reset) within the socket timeout. */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // connection reset
        }
    }

    public void timeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return null;
    }

    public void abort() throws IOException {
        socket.setSoLinger(true, 0); // RST instead of FIN: an abrupt disconnect
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package dev.tern.sink;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A raw-socket SMTP client for tests: sends exactly the bytes given, reads replies line by line (5 s timeout). */
final class SmtpTestClient implements AutoCloseable {
    record Reply(int code, String text) {
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    SmtpTestClient(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5_000);
        socket.setSoTimeout(5_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Connects and reads the greeting, then sends EHLO and reads its reply. */
    static SmtpTestClient greeted(SmtpSink sink) throws IOException {
        SmtpTestClient c = new SmtpTestClient(sink.localAddress());
        c.expect(220);
        c.command("EHLO client.test").code();
        return c;
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    Reply command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    void expect(int code) throws IOException {
        Reply r = reply();
        if (r.code() != code) {
            throw new AssertionError("expected " + code + ", got " + r);
        }
    }

    /** One (possibly multi-line) reply; code -1 when the server closed the connection. */
    Reply reply() throws IOException {
        StringBuilder text = new StringBuilder();
        while (true) {
            String line = line();
            if (line == null) {
                return new Reply(-1, text.toString());
            }
            text.append(line).append('\n');
            if (line.length() < 4 || line.charAt(3) != '-') {
                return new Reply(Integer.parseInt(line.substring(0, 3)), text.toString());
            }
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

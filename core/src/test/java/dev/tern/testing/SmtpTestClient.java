package dev.tern.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A deliberately plain blocking SMTP client for tests: sends exactly the bytes it is given (so tests can send what a
 * broken or hostile client would) and reads whole replies, multi-line ones included.
 */
public final class SmtpTestClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** A reply: its code and its lines without the code prefix. */
    public record Reply(int code, List<String> lines) {
        public String text() {
            return String.join("\n", lines);
        }

        @Override
        public String toString() {
            return code + " " + text();
        }
    }

    public SmtpTestClient(InetSocketAddress address, int timeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(address, timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public Reply read() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new IOException("connection closed" + (lines.isEmpty() ? "" : " after " + lines));
            }
            if (line.length() < 3) {
                throw new IOException("malformed reply line '" + line + "'");
            }
            lines.add(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) == ' ') {
                return new Reply(Integer.parseInt(line.substring(0, 3)), lines);
            }
        }
    }

    /** Sends {@code line} plus CRLF and reads the reply. */
    public Reply command(String line) throws IOException {
        send(line + "\r\n");
        return read();
    }

    public void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.UTF_8));
    }

    public void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** One whole transaction after the greeting and EHLO; returns the end-of-data reply. */
    public Reply sendMail(String from, List<String> to, String content) throws IOException {
        expect(command("MAIL FROM:<" + from + ">"), 250);
        for (String rcpt : to) {
            expect(command("RCPT TO:<" + rcpt + ">"), 250);
        }
        expect(command("DATA"), 354);
        send(dotStuff(content) + ".\r\n");
        return read();
    }

    public static String dotStuff(String content) {
        String c = content.endsWith("\r\n") ? content : content + "\r\n";
        String stuffed = c.replace("\r\n.", "\r\n..");
        return c.startsWith(".") ? "." + stuffed : stuffed;
    }

    public static Reply expect(Reply r, int code) throws IOException {
        if (r.code() != code) {
            throw new IOException("expected " + code + " but got " + r);
        }
        return r;
    }

    /** True once the server has closed the connection (reads end of stream). */
    public boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (b == '\n' && prev == '\r') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            prev = b;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

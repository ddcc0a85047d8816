package dev.tern.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A golden C:/S: transcript (core/src/test/resources/session/transcripts). Consecutive {@code C:} lines form one
 * client write (a PIPELINING batch, CRLF appended to each; {@code C~} appends nothing); the {@code S:} lines that
 * follow are everything the server must answer to it, exactly. The {@code S:} lines before the first {@code C:} are
 * the greeting. Escapes in C lines: {@code \r \n \0 \\ \xHH}. Tokens in S lines: {@code {ID}} (a queue id),
 * {@code {EHLO domain}} (the standard EHLO reply), and a final {@code S: <closed>} (the server closed).
 */
record Transcript(String name, List<Exchange> exchanges) {

    /** One client write and the exact server output it must produce. */
    record Exchange(String clientBytes, Pattern expected, String expectedText, boolean expectClosed, int line) {
    }

    static Transcript load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Exchange> out = new ArrayList<>();
        StringBuilder client = new StringBuilder();
        List<String> server = new ArrayList<>();
        boolean closed = false;
        int exchangeLine = 0;
        boolean inServer = false;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank() || l.startsWith("#")) {
                continue;
            }
            boolean isClient = l.startsWith("C: ") || l.startsWith("C~ ") || l.equals("C:");
            if (isClient && inServer) {
                out.add(exchange(client, server, closed, exchangeLine));
                client.setLength(0);
                server.clear();
                closed = false;
                inServer = false;
            }
            if (isClient) {
                if (client.isEmpty()) {
                    exchangeLine = i + 1;
                }
                client.append(unescape(l.length() > 3 ? l.substring(3) : ""));
                if (l.startsWith("C:")) {
                    client.append("\r\n");
                }
            } else if (l.startsWith("S: ") || l.equals("S:")) {
                inServer = true;
                String s = l.length() > 3 ? l.substring(3) : "";
                if (s.equals("<closed>")) {
                    closed = true;
                } else {
                    server.add(s);
                }
            } else {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected C:, C~, S: or #: " + l);
            }
        }
        if (inServer || !client.isEmpty()) {
            out.add(exchange(client, server, closed, exchangeLine));
        }
        return new Transcript(file.getFileName().toString(), out);
    }

    private static Exchange exchange(StringBuilder client, List<String> server, boolean closed, int line) {
        StringBuilder regex = new StringBuilder();
        StringBuilder text = new StringBuilder();
        for (String s : server) {
            for (String expanded : expand(s)) {
                text.append(expanded).append("\r\n");
                regex.append(Pattern.quote(expanded).replace("{ID}", "\\E[0-9A-F]{16}\\Q")).append("\r\n");
            }
        }
        return new Exchange(client.toString(), Pattern.compile(regex.toString()), text.toString(), closed, line);
    }

    private static List<String> expand(String s) {
        if (s.startsWith("{EHLO ") && s.endsWith("}")) {
            String domain = s.substring(6, s.length() - 1);
            return List.of("250-" + EngineDriver.HOST + " Hello " + domain, "250-PIPELINING",
                    "250-SIZE " + EngineDriver.settings().maxMessageSize(), "250-8BITMIME",
                    "250-ENHANCEDSTATUSCODES", "250-CHUNKING", "250-SMTPUTF8", "250 DSN");
        }
        return List.of(s);
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'r' -> b.append('\r');
                case 'n' -> b.append('\n');
                case '0' -> b.append('\0');
                case '\\' -> b.append('\\');
                case 'x' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + n + " in " + s);
            }
        }
        return b.toString();
    }
}

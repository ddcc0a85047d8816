package dev.tern.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Replays {@code protocol/transcript.txt}: each client line through framer, parser and {@link Replies}. */
class TranscriptTest {
    static List<Arguments> transcript() throws IOException {
        List<Arguments> pairs = new ArrayList<>();
        try (InputStream in = TranscriptTest.class.getResourceAsStream("/protocol/transcript.txt")) {
            String client = null;
            for (String row : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (row.startsWith("C: ")) {
                    client = row.substring(3);
                } else if (row.startsWith("S: ")) {
                    pairs.add(Arguments.of(client, row.substring(3)));
                    client = null;
                }
            }
        }
        assertThat(pairs).hasSizeGreaterThan(20);
        return pairs;
    }

    @ParameterizedTest(name = "C: {0}")
    @MethodSource("transcript")
    void serverAnswersAsTranscribed(String client, String server) {
        byte[] line = TestBytes.unescape(client + "\\r\\n");
        ByteBuffer in = ByteBuffer.allocate(2048);
        in.put(line).flip();
        LineFramer framer = new LineFramer(CommandParser.framerLimit(512));
        Command command = new Command();
        int status = framer.next(in);
        String reply;
        if (status == LineFramer.LINE) {
            status = new CommandParser(512).parse(in, framer.lineStart(), framer.lineEnd(), command);
        }
        if (status == ParseStatus.OK) {
            reply = "(parsed)";
        } else {
            byte[] b = Replies.forStatus(status, command.verb()).bytes(true);
            reply = new String(b, StandardCharsets.US_ASCII).stripTrailing();
        }
        assertThat(reply).isEqualTo(server);
    }
}

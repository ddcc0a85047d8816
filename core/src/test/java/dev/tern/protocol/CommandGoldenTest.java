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

/** Runs every line of {@code protocol/commands.tsv} through the parser and checks status and verb. */
class CommandGoldenTest {
    static List<Arguments> corpus() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        try (InputStream in = CommandGoldenTest.class.getResourceAsStream("/protocol/commands.tsv")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String row : text.split("\n", -1)) {
                if (row.isEmpty() || row.startsWith("#")) {
                    continue;
                }
                String[] f = row.split("\t", 3);
                cases.add(Arguments.of(f[2], f[0], f[1]));
            }
        }
        assertThat(cases).hasSizeGreaterThan(150);
        return cases;
    }

    @ParameterizedTest(name = "[{index}] {1} {2} <- {0}")
    @MethodSource("corpus")
    void parsesToExpectedStatusAndVerb(String line, String status, String verb) {
        byte[] bytes = TestBytes.unescape(line);
        ByteBuffer in = TestBytes.directAfterJunk(bytes, 5);
        Command command = new Command();
        int result = new CommandParser(512).parse(in, 5, 5 + bytes.length, command);
        assertThat(ParseStatus.name(result)).as(command.toString()).isEqualTo(status);
        assertThat(command.verb().name()).isEqualTo(verb);
    }
}

package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays every golden transcript in core/src/test/resources/session/transcripts against a {@link SessionEngine}
 * (trusted client, {@link EngineDriver#settings()}): each file is one behaviour, named by the file.
 */
class SessionTranscriptTest {

    static Stream<Arguments> transcripts() throws IOException, URISyntaxException {
        Path dir = Path.of(SessionTranscriptTest.class.getResource("/session/transcripts").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".txt")).sorted()
                    .map(p -> Transcript.load(p))
                    .map(t -> Arguments.of(Named.of(t.name(), t)))
                    .toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void serverAnswersAsTranscribed(Transcript transcript) {
        MemoryJournal journal = new MemoryJournal();
        try (EngineDriver d = new EngineDriver(EngineDriver.settings(), journal)) {
            boolean first = true;
            for (Transcript.Exchange e : transcript.exchanges()) {
                String actual = first && e.clientBytes().isEmpty() ? d.greet() : null;
                if (actual == null) {
                    if (first) {
                        d.greet();
                    }
                    actual = d.send(e.clientBytes());
                }
                first = false;
                assertThat(actual).as("%s line %d: expected%n%s", transcript.name(), e.line(), e.expectedText())
                        .matches(e.expected());
                assertThat(d.closed()).as("%s line %d: connection closed", transcript.name(), e.line())
                        .isEqualTo(e.expectClosed());
            }
            d.close();
            assertThat(d.bodies.outstanding()).as("body buffers left outstanding").isZero();
        }
    }
}

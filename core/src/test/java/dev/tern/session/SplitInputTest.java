package dev.tern.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The session must not care how TCP cuts the client's bytes (Netty's split-at-every-offset habit): a conversation
 * with pipelined commands, DATA with dot-stuffing and BDAT chunks gives the same replies and the same stored
 * messages whether it arrives in one read, in two reads split at any offset, byte by byte, or in random pieces.
 */
class SplitInputTest {
    private static final String CONVERSATION = "EHLO split.example\r\n"
            + "MAIL FROM:<alice@example.org> SIZE=200\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<>\r\nDATA\r\n"
            + "Subject: one\r\n\r\n..stuffed\r\nline\r\n.\r\n"
            + "NOOP\r\nMAIL FROM:<carol@example.org>\r\nRCPT TO:<dave@example.net>\r\n"
            + "BDAT 9\r\nchunk\r\n.\nBDAT 8 LAST\r\n\r\n.\r\nend\r\n"
            + "VRFY x\r\nRSET\r\nQUIT\r\n";

    @Test
    void everyTwoWaySplitGivesTheSameConversation() {
        Result whole = run(List.of(CONVERSATION));
        assertThat(whole.messages()).hasSize(1); // the BDAT one has a bare LF: refused
        for (int cut = 1; cut < CONVERSATION.length(); cut++) {
            Result split = run(List.of(CONVERSATION.substring(0, cut), CONVERSATION.substring(cut)));
            assertThat(split).as("split at %d", cut).isEqualTo(whole);
        }
    }

    @Test
    void byteByByteGivesTheSameConversation() {
        List<String> bytes = CONVERSATION.chars().mapToObj(c -> String.valueOf((char) c)).toList();
        assertThat(run(bytes)).isEqualTo(run(List.of(CONVERSATION)));
    }

    @Test
    void randomPiecesGiveTheSameConversation() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Result whole = run(List.of(CONVERSATION));
        for (int round = 0; round < 200; round++) {
            List<String> pieces = new java.util.ArrayList<>();
            int at = 0;
            while (at < CONVERSATION.length()) {
                int n = Math.min(CONVERSATION.length() - at, 1 + random.nextInt(40));
                pieces.add(CONVERSATION.substring(at, at + n));
                at += n;
            }
            assertThat(run(pieces)).as("seed %d round %d", seed, round).isEqualTo(whole);
        }
    }

    /** Replies with queue ids masked, and each stored message's content after its Received header. */
    private record Result(String replies, List<String> messages) {
    }

    private static Result run(List<String> pieces) {
        MemoryJournal journal = new MemoryJournal();
        StringBuilder replies = new StringBuilder();
        try (EngineDriver d = new EngineDriver(EngineDriver.settings(), journal)) {
            replies.append(d.greet());
            for (String p : pieces) {
                replies.append(d.send(p));
            }
            assertThat(d.closed()).isTrue();
        }
        List<String> messages = journal.stored().stream()
                .map(m -> m.bodyText().substring(m.bodyText().indexOf("+0000\r\n") + 7)).toList();
        return new Result(replies.toString().replaceAll("[0-9A-F]{16}", "<ID>"), messages);
    }
}

package dev.tern.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tern.config.HostPort;
import dev.tern.sink.ReceivedMessage;
import dev.tern.sink.ReceivedMessage.StampCheck;
import dev.tern.sink.SinkSettings;
import dev.tern.sink.SinkStats;
import dev.tern.sink.SmtpSink;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class LoadGeneratorTest {
    private final List<SmtpSink> sinks = new ArrayList<>();

    @TempDir
    Path dir;

    private SmtpSink sink(SinkSettings.Builder settings) throws Exception {
        SmtpSink sink = SmtpSink.start(settings.build());
        sinks.add(sink);
        return sink;
    }

    @AfterEach
    void closeSinks() {
        sinks.forEach(SmtpSink::close);
    }

    private static LoadSpec.Builder at(SmtpSink sink) {
        InetSocketAddress a = sink.localAddress();
        return LoadSpec.builder(new HostPort(a.getHostString(), a.getPort())).size(SizeDistribution.parse("2k"));
    }

    @Test
    void closedLoopDeliversEveryMessageIntact() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder());
        LoadReport r = LoadGenerator.run(at(sink).connections(4).messages(200).messagesPerConnection(30).build());

        assertThat(r.acknowledged()).isEqualTo(200);
        assertThat(r.started()).isEqualTo(200);
        assertThat(r.errorCount()).isZero();
        assertThat(r.connections()).isGreaterThanOrEqualTo(7);
        SinkStats s = sink.stats();
        assertThat(s.messages()).isEqualTo(200);
        assertThat(s.stamped()).isEqualTo(200);
        assertThat(s.integrityFailures()).isZero();
        assertThat(r.summary(Phase.MESSAGE).count()).isEqualTo(200);
        assertThat(r.summary(Phase.END_OF_DATA).count()).isEqualTo(200);
        assertThat(r.messagesPerSecond()).isPositive();
        assertThat(r.replies(250)).isGreaterThanOrEqualTo(400);
    }

    @Test
    void stampsMessagesWhoseBodiesNeedDotStuffing() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().keepMessages(true));
        LoadGenerator.run(at(sink).connections(1).messages(3).size(SizeDistribution.parse("20k")).build());

        assertThat(sink.received()).hasSize(3).allSatisfy(m -> {
            assertThat(m.stamp()).isEqualTo(StampCheck.VALID);
            assertThat(m.contentText()).contains("\r\n.").startsWith("X-Tern-Stamp: t=");
            assertThat(m.content().length).isBetween(20 * 1024 - 100, 20 * 1024 + 100);
        });
    }

    @Test
    void sendsContentWithBdatWhenAsked() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().keepMessages(true));
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(20).bdat(true).build());

        assertThat(r.acknowledged()).isEqualTo(20);
        assertThat(r.summary(Phase.BDAT_LAST).count()).isEqualTo(20);
        assertThat(r.summary(Phase.DATA).count()).isZero();
        assertThat(sink.received()).allSatisfy(m -> {
            assertThat(m.chunked()).isTrue();
            assertThat(m.stamp()).isEqualTo(StampCheck.VALID);
        });
    }

    @Test
    void sendsOneCommandAtATimeWithoutPipelining() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().pipelining(false));
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(30).recipients(3).build());

        assertThat(r.acknowledged()).isEqualTo(30);
        assertThat(r.summary(Phase.RCPT).count()).isEqualTo(90);
        assertThat(sink.stats().recipients()).isEqualTo(90);
    }

    @Test
    void classifiesMessagesRefusedAtTheEndOfData() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().seed(7).tempfailDataRatio(0.3).rejectDataRatio(0.2));
        LoadReport r = LoadGenerator.run(at(sink).connections(3).messages(150).build());

        assertThat(r.acknowledged() + r.tempfailed() + r.rejected()).isEqualTo(150);
        assertThat(r.tempfailed()).isPositive();
        assertThat(r.rejected()).isPositive();
        assertThat(r.acknowledged()).isEqualTo(sink.stats().messages());
        assertThat(r.replies(451)).isEqualTo(r.tempfailed());
    }

    @Test
    void acknowledgesMessagesWithSomeRecipientsRefused() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().seed(3).rejectRcptRatio(0.5));
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(60).recipients(4).build());

        // A message is refused only when all four recipients are: about 1 in 16.
        assertThat(r.acknowledged()).isEqualTo(sink.stats().messages()).isGreaterThan(30);
        assertThat(r.acknowledged() + r.rejected()).isEqualTo(60);
        assertThat(r.replies(550)).isPositive();
    }

    @Test
    void countsMessagesCutByDisconnectsAsErrorsAndCarriesOn() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().seed(5).disconnectDataRatio(0.2));
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(100).build());

        assertThat(r.failedByError()).isEqualTo(sink.stats().injectedDisconnects()).isPositive();
        assertThat(r.errors().keySet()).isNotEmpty().isSubsetOf("closed-by-server", "connection-reset");
        assertThat(r.acknowledged() + r.failedByError()).isEqualTo(100);
    }

    @Test
    void openLoopChargesQueueingDelayFromTheDueTime() throws Exception {
        // Every reply waits 20 ms, so one message takes at least 80 ms (MAIL+RCPT+DATA batch, then the end of data)
        // while one is due every 5 ms. Message k ends no earlier than (k+1)*80 ms and was due at k*5 ms, so the
        // median of 15 (k = 7) waited at least 605 ms from its due time; timed from its own start it took ~80 ms.
        SmtpSink sink = sink(SinkSettings.builder().slowReplies(1.0, Duration.ofMillis(20)));
        LoadReport r = LoadGenerator.run(at(sink).connections(1).messages(15).rate(200).build());

        assertThat(r.acknowledged()).isEqualTo(15);
        assertThat(r.summary(Phase.MESSAGE).p50()).isGreaterThan(500);
        assertThat(r.summary(Phase.MESSAGE).max()).isGreaterThan(r.summary(Phase.END_OF_DATA).max());
    }

    @Test
    void warmUpMessagesAreSentButNotMeasured() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder());
        LoadReport r = LoadGenerator.run(at(sink).connections(1).messages(50).warmupMessages(20).build());

        assertThat(r.acknowledged()).isEqualTo(50);
        assertThat(r.measuredAcknowledged()).isEqualTo(30);
        assertThat(r.summary(Phase.MESSAGE).count()).isEqualTo(30);
    }

    @Test
    void stopsAtTheDurationAndAbortsAtTheDrainDeadline() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().slowReplies(1.0, Duration.ofSeconds(5)));
        long start = System.nanoTime();
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(1000).duration(Duration.ofMillis(200))
                .drainTimeout(Duration.ofMillis(300)).build());

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(r.started()).isLessThanOrEqualTo(2);
        assertThat(r.acknowledged()).isZero();
        assertThat(r.errors()).containsKey("aborted-at-deadline");
    }

    @Test
    void countsRefusedConnectionsAsErrors() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", port)).connections(2).messages(6)
                .build());

        assertThat(r.acknowledged()).isZero();
        assertThat(r.errors()).containsEntry("connect-refused", 6L);
    }

    @Test
    void countsAServerThatNeverRepliesAsTimeouts() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            // Connections complete in the backlog and are never answered: each message waits out the reply timeout.
            LoadReport r = LoadGenerator.run(LoadSpec.builder(new HostPort("127.0.0.1", silent.getLocalPort()))
                    .connections(2).messages(4).replyTimeout(Duration.ofMillis(200)).build());

            assertThat(r.acknowledged()).isZero();
            assertThat(r.errors()).containsEntry("timeout", 4L);
        }
    }

    @Test
    void servesConnectionsBeyondThePlatformThreadLimitOnVirtualThreads() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder());
        int connections = LoadGenerator.PLATFORM_THREAD_LIMIT + 1;
        LoadReport r = LoadGenerator.run(at(sink).connections(connections).messages(connections).build());

        assertThat(r.acknowledged()).isEqualTo(connections);
        assertThat(r.connections()).isEqualTo(connections);
    }

    @Test
    void writesTheQueueIdOfEveryAcknowledgedMessage() throws Exception {
        SmtpSink sink = sink(SinkSettings.builder().keepMessages(true).seed(9).tempfailDataRatio(0.25));
        Path ids = dir.resolve("acked.txt");
        LoadReport r = LoadGenerator.run(at(sink).connections(2).messages(40).idsFile(ids).build());

        List<String> lines = Files.readAllLines(ids);
        assertThat(lines).hasSize((int) r.acknowledged()).allMatch(l -> l.matches("[0-9A-F]{16}\t<\\d+\\.\\w+@.+>"));
        List<String> sinkIds = sink.received().stream().map(ReceivedMessage::queueId).toList();
        assertThat(lines.stream().map(l -> l.substring(0, 16)).toList()).containsExactlyInAnyOrderElementsOf(sinkIds);
    }

    @Test
    void acknowledgedMessagesAreExactlyTheOnesTheSinkReceived() throws Exception {
        Path delivered = dir.resolve("delivered.txt");
        Path acked = dir.resolve("acked.txt");
        SmtpSink sink = sink(SinkSettings.builder().seed(11).tempfailDataRatio(0.2).disconnectDataRatio(0.1)
                .messageIdsFile(delivered));
        LoadReport r = LoadGenerator.run(at(sink).connections(3).messages(120).idsFile(acked).build());
        sink.close();

        List<String> ackedIds = Files.readAllLines(acked).stream().map(l -> l.substring(l.indexOf('\t') + 1)).toList();
        assertThat(ackedIds).hasSize((int) r.acknowledged()).doesNotHaveDuplicates();
        assertThat(Files.readAllLines(delivered)).containsExactlyInAnyOrderElementsOf(ackedIds);
    }
}

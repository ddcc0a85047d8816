package dev.tern.sink;

import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * A snapshot of an {@link SmtpSink}'s counters. Immutable: the histogram is a copy owned by the snapshot.
 *
 * @param connections         connections accepted since start
 * @param activeConnections   connections open now
 * @param messages            messages answered 250 at end of data (or BDAT LAST)
 * @param failedMessages      messages answered 4xx/5xx at end of data
 * @param recipients          RCPT commands answered 250
 * @param bytes               content bytes of accepted messages (after dot-unstuffing)
 * @param replies             replies sent, by code (every reply, greeting included)
 * @param stamped             accepted messages that carried a parseable X-Tern-Stamp
 * @param integrityFailures   accepted messages whose stamp digest did not match (plus malformed stamps)
 * @param injectedDisconnects connections the sink cut in the middle of DATA/BDAT
 * @param latencyMicros       end-to-end latency of stamped messages: receipt time minus the stamp's t, in µs
 */
public record SinkStats(long connections, long activeConnections, long messages, long failedMessages,
                        long recipients, long bytes, Map<Integer, Long> replies, long stamped,
                        long integrityFailures, long injectedDisconnects, Histogram latencyMicros) {

    /** Replies sent with this code (0 if none). */
    public long replies(int code) {
        return replies.getOrDefault(code, 0L);
    }
}

package dev.tern.session;

import java.util.Map;

/**
 * A snapshot of the SMTP server's counters since start.
 *
 * @param sessionsOpen     sessions currently connected
 * @param sessionsTotal    sessions ever started (connections that got past admission)
 * @param messagesAccepted messages answered 250 after their commit
 * @param tlsSessions      sessions that completed a STARTTLS handshake
 * @param rejections       refusals by reason (every reason present, zero when none)
 */
public record SessionStats(long sessionsOpen, long sessionsTotal, long messagesAccepted, long tlsSessions,
                           Map<RejectReason, Long> rejections) {

    public long rejections(RejectReason reason) {
        return rejections.getOrDefault(reason, 0L);
    }
}

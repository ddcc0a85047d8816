package dev.tern.session;

import dev.tern.buffer.BufferPool;
import dev.tern.config.SmtpSettings;
import dev.tern.io.DeadlineSweeper;
import dev.tern.journal.Journal;
import dev.tern.tls.ServerTlsContext;

/**
 * What every session of one server shares: settings, the journal, the buffer pools, the counters and the deadline
 * sweeper. Threading: every component is itself thread-safe.
 *
 * @param settings       protocol limits and timeouts
 * @param journal        where accepted messages are committed
 * @param commandBuffers small direct buffers: each session's command input and reply output
 * @param bodyBuffers    large direct chunks for message content, held only while a message is received
 * @param counters       server-wide statistics
 * @param deadlines      the timeout sweeper
 * @param tls            STARTTLS's certificate and key, or null when STARTTLS is not offered
 */
record SessionContext(SmtpSettings settings, Journal journal, BufferPool commandBuffers, BufferPool bodyBuffers,
                      SessionCounters counters, DeadlineSweeper deadlines, ServerTlsContext tls) {
}

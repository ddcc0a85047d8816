/**
 * The SMTP server: accepting connections and running the RFC 5321 state machine.
 *
 * <p>Threads: one platform thread accepts ({@code Listener}); each admitted connection runs as a
 * {@code Session} on its own virtual thread, which blocks on socket reads and on the journal commit;
 * one platform thread ({@link dev.tern.io.DeadlineSweeper}) enforces timeouts, because a blocking socket read on
 * a virtual thread ignores {@code SO_TIMEOUT}.
 *
 * <p>Memory: an idle session holds two small direct command buffers (input and replies) from a bounded
 * {@link dev.tern.buffer.BufferPool}; 64 KiB body chunks are taken only while message content is received and are
 * returned on every path. {@link dev.tern.session.SessionEngine} is the state machine without sockets, driven by
 * tests with C:/S: transcripts.
 */
package dev.tern.session;

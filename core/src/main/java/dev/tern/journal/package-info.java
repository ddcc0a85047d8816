/**
 * The durable mail queue: {@link dev.tern.journal.Journal} and its Chronicle Queue implementation.
 *
 * <h2>Write path (group commit)</h2>
 * Sessions call {@link dev.tern.journal.Journal#commit}; the call enqueues a request on a JCTools MPSC queue and
 * parks. One platform thread ({@code JournalWriter}) owns the Chronicle appender: it drains up to
 * {@code maxBatch} requests, appends one document per request (the envelope bytes, then the body from the session's
 * pooled direct buffers: copied into the mapped file when small, written at its place in the document with one
 * {@code writev} from 64 KiB up, which spares a page fault and a zero-fill per fresh page), {@code fdatasync}s each
 * cycle file the batch touched once, updates the in-memory index, tells the commit listeners and wakes the callers.
 * Idle, it spins briefly and parks; submitters unpark it.
 *
 * <h2>Records</h2>
 * {@code RecordCodec}: MESSAGE (envelope + body), OUTCOMES (one {@code record()} call), CARRIED (a message copied
 * forward with its delivery state). A Chronicle document is published only when complete, so a record is wholly
 * present or absent after a crash.
 *
 * <h2>Recovery</h2>
 * {@code Recovery} replays every cycle in order into {@code JournalIndex}. A torn tail (a JVM killed mid-document) is
 * invisible to the tailer; Chronicle releases the append lock of a dead process at open, so the journal is
 * appendable at once. Unparseable records are logged and skipped. Damage that would hide or overwrite records (a
 * broken record header, a cycle file whose header was zeroed, a metadata file without its store header: see
 * {@code JournalFileHeaders}) makes the open refuse.
 *
 * <h2>Cycles and compaction</h2>
 * One file per roll interval (hourly by default; the clock is injectable). The oldest run of cycles before the
 * current one is deleted once it holds no pending message, or, when its pending bytes are at most
 * {@code compactRatio} of its message bytes and it ends before the previous cycle, after its pending messages are
 * carried forward into the current cycle and made durable.
 *
 * <h2>Failures</h2>
 * A failed append (disk full shows up as {@link java.lang.InternalError} from a SIGBUS on a mapped page; an
 * uncreatable cycle file as an exception) is rolled back and fails only that request with
 * {@link dev.tern.journal.JournalException} (SMTP 451 4.3.0); the writer drops its appender, releases any Chronicle
 * lock the failed write left held, and serves the next request normally.
 *
 * <h2>Reading</h2>
 * Bodies are streamed from a read-only mapping of the cycle file made per call ({@code BodyMapping}); the offline
 * {@link dev.tern.journal.JournalReader} replays a read-only queue for {@code tern queue} while the relay runs.
 */
package dev.tern.journal;

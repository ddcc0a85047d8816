/**
 * The pure SMTP protocol layer: bytes in, statuses and pre-encoded replies out. No sockets, threads, clocks or
 * logging; nothing here throws on client input, and the hot path (framing, parsing, DATA/BDAT decoding, writing
 * replies) does not allocate.
 *
 * <p>Flow for one session (all objects are per session and single-threaded):
 * <ol>
 * <li>{@link dev.tern.protocol.LineFramer} cuts the input buffer into CRLF lines (RFC 5321 2.3.8), discarding
 *     over-long lines and lines with a bare CR/LF or NUL. Its limit is
 *     {@link dev.tern.protocol.CommandParser#framerLimit(int)}.</li>
 * <li>{@link dev.tern.protocol.CommandParser} turns a line into a reused {@link dev.tern.protocol.Command} and a
 *     {@link dev.tern.protocol.ParseStatus}; {@link dev.tern.protocol.Replies#forStatus(int, Verb)} gives the reply
 *     for any error status.</li>
 * <li>After 354, {@link dev.tern.protocol.DataDecoder} unstuffs DATA content and finds the only real terminator,
 *     CRLF.CRLF; after BDAT, {@link dev.tern.protocol.BdatDecoder} copies the announced octets.</li>
 * <li>{@link dev.tern.protocol.ReplyWriter} appends {@link dev.tern.protocol.Reply} bytes to the output buffer, which
 *     the session flushes once per pipelined batch (RFC 2920).</li>
 * </ol>
 */
package dev.tern.protocol;

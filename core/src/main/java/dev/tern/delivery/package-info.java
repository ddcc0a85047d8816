/**
 * Outbound delivery: from the journal to the next hop, with retries and bounces (RFC 5321 sections 4.5.4 and 5,
 * RFC 3464 DSNs).
 *
 * <ul>
 *   <li>{@link dev.tern.delivery.DeliveryEngine}: the entry point. Admits journaled messages, groups each message's
 *       open recipients by domain into jobs, schedules them, journals every outcome; flush, delete and stats for
 *       {@code tern queue}.</li>
 *   <li>Routing: {@code Router} (smarthost, configured routes, else DNS) and {@code MxResolver} (MX by preference,
 *       implicit MX, null MX; {@code DnsCache} keeps answers for their TTL). DNS trouble defers, never bounces.</li>
 *   <li>The client: {@code OutboundConnection} (EHLO/HELO, PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN parameters,
 *       DATA or BDAT), {@code ReplyReader} (bounded multi-line replies, enhanced codes), {@code BodyEncoder}
 *       (streaming dot-stuffing and CRLF normalisation into one pooled direct buffer).</li>
 *   <li>Shaping: per destination ({@code Destination}: connection limit, messages per connection, rate, back-off
 *       after a 421 or a run of 4xx) and per next-hop host ({@code HopLimiter}); idle connections wait in
 *       {@code ConnectionCache}; {@link dev.tern.io.DeadlineSweeper} enforces I/O timeouts.</li>
 *   <li>Outcomes: {@code RetryPolicy} (schedule and lifetime) and {@code DsnBuilder}; a DSN is committed to the
 *       journal before the BOUNCED outcome, so a crash can duplicate a DSN but never lose one.</li>
 *   <li>{@code dkim}: DKIM signing, applied to each message once before it is first sent.</li>
 * </ul>
 *
 * <p>Threads: one virtual thread dispatches due jobs, one virtual thread per active connection delivers; the journal's
 * commit listener only enqueues.
 */
package dev.tern.delivery;

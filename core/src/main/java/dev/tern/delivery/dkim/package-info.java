/**
 * DKIM signing of outbound mail (RFC 6376; ed25519-sha256 from RFC 8463), with the JDK's crypto only.
 *
 * <p>Start-up: {@link dev.tern.delivery.dkim.DkimSigner#fromSettings} loads every key in
 * {@link dev.tern.delivery.dkim.DkimSettings} once and reports all unusable ones together. Delivery: for each
 * message, {@link dev.tern.delivery.dkim.DkimSigner#stream} gives a {@link dev.tern.delivery.dkim.DkimSigningStream}
 * fed the stored pieces; its result is sent before the message, which itself is never changed.
 *
 * <p>Pieces: {@code RelaxedHeaderCanonicalizer} and {@code RelaxedBodyCanonicalizer} (RFC 6376 3.4.2, 3.4.4),
 * {@code HeaderFields} (which instance h= selects, 5.4.2), {@code SignatureHeaderFolder} (lines of at most 76
 * columns), {@link dev.tern.pem.PemPrivateKeys} (PKCS#8 and PKCS#1 PEM, shared with STARTTLS),
 * {@link dev.tern.delivery.dkim.DkimDnsRecord} and the {@code tern dkim-keygen} command.
 */
package dev.tern.delivery.dkim;

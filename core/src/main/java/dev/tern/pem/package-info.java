/**
 * Private keys in PEM files, read with the JDK alone: the DKIM signing keys and the STARTTLS server key share
 * {@link dev.tern.pem.PemPrivateKeys}, so both accept the same forms and refuse damage with the same messages.
 */
package dev.tern.pem;

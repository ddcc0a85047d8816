package dev.tern.tls;

import dev.tern.pem.PemKeyException;
import dev.tern.pem.PemPrivateKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Semaphore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of STARTTLS (RFC 3207): an {@link SSLContext} made from a PEM certificate chain and its PEM private
 * key ({@link PemPrivateKeys}: PKCS#8 {@code PRIVATE KEY}, RSA, EC or Ed25519, as {@code openssl req -newkey} and
 * certbot write them, or PKCS#1 {@code RSA PRIVATE KEY}), with the JDK alone. TLS 1.2 and 1.3 only.
 *
 * <p>A TLS session holds about 64 KiB of heap (the {@link TlsChannel}'s three record buffers and the engine's state;
 * 2,000 sessions held took 126 MiB more after a full GC), so the sessions running TLS at once are bounded: by
 * default by a quarter of the heap at {@link #SESSION_BUDGET} each (2,048 with the shipped 512 MiB heap). A
 * STARTTLS beyond that gets 454 and the session goes on in plaintext.
 *
 * <p>The files are read again when they change ({@link #reloadIfChanged}, which the server calls every minute), so a
 * renewed certificate is served without a restart; sessions already in TLS keep theirs. A replacement that cannot be
 * used is logged and the files in use stay.
 *
 * <p>Threading: every method may be called from any thread; a reload swaps one volatile reference.
 */
public final class ServerTlsContext {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "EdDSA");
    private static final char[] NO_PASSWORD = new char[0];

    /** Heap set aside per TLS session, rounded up from what one holds. */
    static final long SESSION_BUDGET = 64 << 10;

    private static final Logger LOG = LoggerFactory.getLogger(ServerTlsContext.class);

    /** What the files held when last read, and how to tell whether they changed since. */
    private record Loaded(SSLContext context, X509Certificate certificate, String stamp) {
    }

    private final Path certificateFile;
    private final Path keyFile;
    private volatile Loaded loaded;
    /** The stamp of changed files that could not be used: said once, not at every check. */
    private volatile String refusedStamp = "";
    private final int sessionLimit;
    private final Semaphore sessions;

    private ServerTlsContext(Path certificateFile, Path keyFile, Loaded loaded, int sessionLimit) {
        this.certificateFile = certificateFile;
        this.keyFile = keyFile;
        this.loaded = loaded;
        this.sessionLimit = sessionLimit;
        this.sessions = new Semaphore(sessionLimit);
    }

    /**
     * Reads both files; {@link IllegalArgumentException} says which file is wrong and why (never quoting a key).
     * {@code maxSessions}: TLS sessions at once, 0 for a quarter of the heap's worth.
     */
    public static ServerTlsContext load(Path certificateFile, Path keyFile, int maxSessions) {
        int limit = maxSessions > 0 ? maxSessions
                : (int) Math.clamp(Runtime.getRuntime().maxMemory() / 4 / SESSION_BUDGET, 16, 1 << 20);
        return new ServerTlsContext(certificateFile, keyFile, read(certificateFile, keyFile), limit);
    }

    /**
     * Reads the files again if either changed (modification time or size) since they were read; a replacement that
     * cannot be used is logged and the files in use stay. True when new files were taken.
     */
    public boolean reloadIfChanged() {
        String stamp;
        try {
            stamp = stamp(certificateFile, keyFile);
        } catch (IOException e) {
            LOG.warn("TLS files not readable ({}); serving the certificate read before", e.toString());
            return false;
        }
        if (stamp.equals(loaded.stamp()) || stamp.equals(refusedStamp)) {
            return false;
        }
        try {
            Loaded fresh = read(certificateFile, keyFile);
            loaded = fresh;
            LOG.info("TLS certificate {} reloaded: {}, valid until {}", certificateFile,
                    fresh.certificate().getSubjectX500Principal(), fresh.certificate().getNotAfter().toInstant());
            return true;
        } catch (IllegalArgumentException e) {
            // A renewal may write the certificate and the key one after the other: the next check sees the pair.
            refusedStamp = stamp;
            LOG.warn("TLS files changed but cannot be used ({}); serving the certificate read before",
                    e.getMessage());
            return false;
        }
    }

    private static Loaded read(Path certificateFile, Path keyFile) {
        String stamp;
        try {
            stamp = stamp(certificateFile, keyFile);
        } catch (IOException e) {
            stamp = ""; // the reads below say what is wrong
        }
        List<X509Certificate> chain = certificates(certificateFile);
        PrivateKey key = privateKey(keyFile);
        if (!signsFor(key, chain.getFirst())) {
            // Found now, at start-up or reload, rather than by every client's failed handshake.
            throw new IllegalArgumentException("TLS key " + keyFile + " does not belong to the certificate "
                    + certificateFile + " (" + chain.getFirst().getSubjectX500Principal() + ")");
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("tern", key, NO_PASSWORD, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, NO_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return new Loaded(context, chain.getFirst(), stamp);
        } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS key " + keyFile + " cannot be used with certificate "
                    + certificateFile + ": " + e.getMessage(), e);
        }
    }

    /** Both files' modification times and sizes: what tells a renewed pair from the one in use. */
    private static String stamp(Path certificateFile, Path keyFile) throws IOException {
        return Files.getLastModifiedTime(certificateFile) + "/" + Files.size(certificateFile) + " "
                + Files.getLastModifiedTime(keyFile) + "/" + Files.size(keyFile);
    }

    /** A server-mode engine for one connection, with the certificate in use now. */
    public SSLEngine newEngine() {
        SSLEngine engine = loaded.context().createSSLEngine();
        engine.setUseClientMode(false);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setNeedClientAuth(false);
        engine.setSSLParameters(p);
        return engine;
    }

    /** Takes one of the TLS sessions; false when all are in use. Give it back with {@link #release}. */
    public boolean tryAcquire() {
        return sessions.tryAcquire();
    }

    public void release() {
        sessions.release();
    }

    /** How many sessions may run TLS at once. */
    public int sessionLimit() {
        return sessionLimit;
    }

    /** The server's own certificate in use now (the first of the chain). */
    public X509Certificate certificate() {
        return loaded.certificate();
    }

    /** Whether a signature made with {@code key} verifies with the certificate's public key. */
    private static boolean signsFor(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, EdDSA
        };
        byte[] probe = "tern starttls key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // the certificate's key is of another algorithm
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        try {
            byte[] pem = Files.readAllBytes(file);
            List<X509Certificate> chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem)).stream()
                    .map(X509Certificate.class::cast).toList();
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("TLS certificate " + file + " holds no certificate");
            }
            return chain;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read TLS certificate " + file + ": " + e.getMessage(), e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("TLS certificate " + file + " is not a PEM X.509 certificate chain: "
                    + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) {
        try {
            return PemPrivateKeys.load(file, "TLS", KEY_ALGORITHMS);
        } catch (PemKeyException e) {
            throw new IllegalArgumentException("TLS key " + e.getMessage(), e);
        }
    }
}

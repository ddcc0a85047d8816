package dev.tern.loadgen;

import dev.tern.tls.AnyServerCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS client side of the load connections: one {@link SSLContext} per run, shared by every connection.
 *
 * <p>With a trust file the server's certificate chain must lead to one of its certificates and name the target host
 * (as HTTPS checks it, RFC 6125). Without one any certificate is accepted: a load generator measures servers on a
 * test bench, most of them with self-signed certificates, and needs the encryption's cost, not its authentication.
 *
 * <p>Thread-safe.
 */
final class ClientTls {
    private final SSLContext context;
    private final boolean verify;

    private ClientTls(SSLContext context, boolean verify) {
        this.context = context;
        this.verify = verify;
    }

    /** A client that trusts the PEM certificates in {@code trustFile}, or any certificate when it is null. */
    static ClientTls create(Path trustFile) throws IOException {
        try {
            TrustManager[] trust = trustFile == null ? new TrustManager[] {new AnyServerCertificate()} : trusting(trustFile);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust, null);
            return new ClientTls(context, trustFile != null);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS" + (trustFile == null ? "" : " with " + trustFile) + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Starts TLS over {@code plain}, which stays open underneath, and completes the handshake before returning.
     * Closing the plain socket aborts the TLS one too.
     */
    SSLSocket handshake(Socket plain, String host, int port) throws IOException {
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
        tls.setUseClientMode(true);
        if (verify) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(parameters);
        }
        tls.startHandshake();
        return tls;
    }

    private static TrustManager[] trusting(Path trustFile) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(trustFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new CertificateException("no PEM certificate in the file");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            store.setCertificateEntry("trusted-" + i++, c);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers();
    }
}

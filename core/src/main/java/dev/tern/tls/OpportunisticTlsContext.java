package dev.tern.tls;

import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * The client side of opportunistic STARTTLS to a next hop (RFC 7435; Postfix's {@code smtp_tls_security_level =
 * may}): it encrypts against passive eavesdropping and takes any certificate, since nothing says which name an MX's
 * certificate should carry (that takes DANE or MTA-STS, which Tern does not do). A handshake that fails is the
 * caller's to handle, by going on in plaintext.
 *
 * <p>Threading: immutable; {@link #newEngine} may be called from any thread.
 */
public final class OpportunisticTlsContext {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SSLContext context;

    public OpportunisticTlsContext() {
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new AnyServerCertificate()}, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no TLS", e);
        }
    }

    /** A client-mode engine for {@code host} (sent as SNI when it is a name). */
    public SSLEngine newEngine(String host, int port) {
        SSLEngine engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        engine.setSSLParameters(p);
        return engine;
    }
}

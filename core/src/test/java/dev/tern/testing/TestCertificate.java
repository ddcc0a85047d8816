package dev.tern.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate and its unencrypted private key in PEM files, made by the {@code openssl} command for a
 * test's TLS server: EC P-256, valid two days, for {@code localhost} and 127.0.0.1. The certificate is its own CA, so
 * a client can trust exactly it.
 *
 * @param certificate the certificate, PEM
 * @param privateKey  the private key, PEM (PKCS#8), readable by its owner only
 */
public record TestCertificate(Path certificate, Path privateKey) {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    public static boolean available() {
        return Files.isExecutable(OPENSSL);
    }

    /** Makes a new key and certificate named {@code name}.pem and {@code name}.key in {@code dir}. */
    public static TestCertificate create(Path dir, String name) throws IOException, InterruptedException {
        Path cert = dir.resolve(name + ".pem");
        Path key = dir.resolve(name + ".key");
        Process p = new ProcessBuilder(List.of(OPENSSL.toString(), "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(),
                "-out", cert.toString()))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("openssl could not make a test certificate: " + output);
        }
        return new TestCertificate(cert, key);
    }
}

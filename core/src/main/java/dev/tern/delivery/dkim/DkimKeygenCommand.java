package dev.tern.delivery.dkim;

import dev.tern.cli.TernSubcommand;
import dev.tern.pem.PemPrivateKeys;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tern dkim-keygen}: creates a DKIM key pair, writes the private key as PKCS#8 PEM (owner-only permissions,
 * never over an existing file) and prints the DNS TXT record to publish.
 *
 * <p>Threading: a picocli command, run once on the calling thread.
 */
@Command(name = "dkim-keygen", mixinStandardHelpOptions = true,
        description = "Create a DKIM signing key and print the DNS TXT record to publish.")
public final class DkimKeygenCommand implements TernSubcommand, Callable<Integer> {
    /** RFC 8301 3.2: signers SHOULD use at least 2048 bits; verifiers need not accept less than 1024. */
    private static final int MIN_RSA_BITS = 2048;

    @Spec
    CommandSpec spec;

    @Option(names = "--domain", required = true, description = "signing domain (d=)")
    String domain;

    @Option(names = "--selector", required = true, description = "selector (s=)")
    String selector;

    @Option(names = "--algorithm", defaultValue = "rsa-sha256",
            description = "rsa-sha256 or ed25519-sha256 (default: ${DEFAULT-VALUE})")
    String algorithm;

    @Option(names = "--bits", defaultValue = "2048", description = "RSA key size (default: ${DEFAULT-VALUE})")
    int bits;

    @Option(names = "--out", required = true, description = "PEM file to create for the private key")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        DkimAlgorithm alg;
        KeyPair pair;
        try {
            alg = DkimAlgorithm.fromTagValue(algorithm);
            if (alg == DkimAlgorithm.RSA_SHA256 && bits < MIN_RSA_BITS) {
                throw new IllegalArgumentException("RSA keys need at least " + MIN_RSA_BITS + " bits (RFC 8301)");
            }
            KeyPairGenerator generator = KeyPairGenerator.getInstance(alg.keyAlgorithm());
            if (alg == DkimAlgorithm.RSA_SHA256) {
                generator.initialize(bits);
            }
            pair = generator.generateKeyPair();
            // Validates domain and selector the same way the relay will when it loads the key.
            new DkimKey(domain, selector, alg, pair.getPrivate());
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            err.println("dkim-keygen: " + e.getMessage());
            return 2;
        }
        try {
            writeOwnerOnly(out, PemPrivateKeys.encode(pair.getPrivate()));
        } catch (FileAlreadyExistsException e) {
            err.println("dkim-keygen: " + out + " already exists; not overwriting a key");
            return 1;
        }
        stdout.println("Private key written to " + out);
        stdout.println("Publish this TXT record:");
        stdout.println(DkimDnsRecord.name(selector.toLowerCase(Locale.ROOT), domain.toLowerCase(Locale.ROOT))
                + ". IN TXT " + zoneFileStrings(DkimDnsRecord.txt(pair.getPublic(), alg)));
        stdout.flush();
        return 0;
    }

    /** A TXT record as zone-file strings: one string holds at most 255 bytes (RFC 1035 3.3.14; RFC 6376 3.6.2.2). */
    static String zoneFileStrings(String record) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < record.length(); i += 255) {
            sb.append(i == 0 ? "" : " ").append('"').append(record, i, Math.min(record.length(), i + 255)).append('"');
        }
        return sb.toString();
    }

    private static void writeOwnerOnly(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(
                    Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(file);
        }
        Files.write(file, bytes, StandardOpenOption.TRUNCATE_EXISTING);
    }
}

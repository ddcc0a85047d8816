package dev.tern.delivery.dkim;

import static dev.tern.delivery.dkim.DkimSignerVerificationTest.bytes;
import static dev.tern.delivery.dkim.DkimSignerVerificationTest.concat;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DkimKeygenCommandTest {
    private static final String MESSAGE = "From: a@example.net\r\nTo: b@example.org\r\nSubject: keygen\r\n\r\nhi\r\n";

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void ed25519KeyAndPrintedRecordVerify() throws Exception {
        assertGeneratedKeyVerifies("ed25519-sha256", DkimAlgorithm.ED25519_SHA256);
    }

    @Test
    void rsaKeyAndPrintedRecordVerify() throws Exception {
        assertGeneratedKeyVerifies("rsa-sha256", DkimAlgorithm.RSA_SHA256);
    }

    @Test
    void writesThePrivateKeyReadableByTheOwnerOnly() throws Exception {
        Path pem = tmp.resolve("k.pem");
        assertThat(run("--domain", "example.net", "--selector", "s1", "--algorithm", "ed25519-sha256",
                "--out", pem.toString())).isZero();

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pem))).isEqualTo("rw-------");
    }

    @Test
    void refusesToOverwriteAnExistingFile() throws Exception {
        Path pem = tmp.resolve("k.pem");
        Files.writeString(pem, "precious");

        assertThat(run("--domain", "example.net", "--selector", "s1", "--out", pem.toString())).isEqualTo(1);
        assertThat(Files.readString(pem)).isEqualTo("precious");
        assertThat(err.toString()).contains("already exists");
    }

    @Test
    void refusesRsaKeysShorterThan2048Bits() {
        Path pem = tmp.resolve("k.pem");

        assertThat(run("--domain", "example.net", "--selector", "s1", "--bits", "1024", "--out", pem.toString()))
                .isEqualTo(2);
        assertThat(err.toString()).contains("2048");
        assertThat(pem).doesNotExist();
    }

    @Test
    void splitsALongRecordIntoZoneFileStringsOf255Bytes() {
        String record = "x".repeat(300);
        assertThat(DkimKeygenCommand.zoneFileStrings(record))
                .isEqualTo("\"" + "x".repeat(255) + "\" \"" + "x".repeat(45) + "\"");
    }

    private void assertGeneratedKeyVerifies(String algorithmName, DkimAlgorithm algorithm) throws Exception {
        Path pem = tmp.resolve("k.pem");
        assertThat(run("--domain", "Example.NET", "--selector", "s2026", "--algorithm", algorithmName,
                "--out", pem.toString())).as(err.toString()).isZero();
        Matcher m = Pattern.compile("(?m)^s2026\\._domainkey\\.example\\.net\\. IN TXT (.*)$").matcher(out.toString());
        assertThat(m.find()).as(out.toString()).isTrue();
        Path record = tmp.resolve("record.txt");
        Files.writeString(record, m.group(1).replaceAll("\" \"", "").replace("\"", ""));

        DkimSigner signer = DkimSigner.of(DkimKey.load("example.net", "s2026", algorithm, pem));
        byte[] signature = signer.sign(ByteBuffer.wrap(bytes(MESSAGE))).orElseThrow();
        DkimpyVerifier.Result result = DkimpyVerifier.verify(concat(signature, bytes(MESSAGE)),
                Map.of("s2026._domainkey.example.net", record), tmp);

        assertThat(result.allPassed()).as(result.stdout() + result.stderr()).isTrue();
    }

    private int run(String... args) {
        CommandLine cli = new CommandLine(new DkimKeygenCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }
}

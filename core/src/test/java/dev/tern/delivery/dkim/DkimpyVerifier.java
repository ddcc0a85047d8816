package dev.tern.delivery.dkim;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian's python3-dkim (dkimpy) on a message: an independent verifier, with the public key records given
 * directly instead of looked up in DNS. Prefers /usr/bin/python3, since a python3 earlier on PATH (pyenv) may lack
 * the Debian modules.
 */
final class DkimpyVerifier {
    /** Exit status and output of one verification. */
    record Result(int exitCode, String stdout, String stderr) {
        boolean allPassed() {
            return exitCode == 0;
        }
    }

    private static final List<String> CANDIDATES = List.of("/usr/bin/python3", "python3");
    private static String python;

    private DkimpyVerifier() {
    }

    /** Verifies every DKIM-Signature of {@code message}; {@code records} maps DNS names to TXT record files. */
    static Result verify(byte[] message, Map<String, Path> records, Path workDir) throws IOException,
            InterruptedException {
        Path messageFile = Files.createTempFile(workDir, "message", ".eml");
        Files.write(messageFile, message);
        List<String> command = new ArrayList<>(List.of(python(), script().toString(), messageFile.toString()));
        records.forEach((name, file) -> command.add(name + "=" + file));
        return run(command);
    }

    static Path resource(String name) {
        try {
            return Path.of(DkimpyVerifier.class.getResource("/dkim/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path script() {
        return resource("verify.py");
    }

    private static synchronized String python() throws IOException, InterruptedException {
        if (python == null) {
            for (String candidate : CANDIDATES) {
                try {
                    if (run(List.of(candidate, "-c", "import dkim, nacl")).exitCode() == 0) {
                        python = candidate;
                        break;
                    }
                } catch (IOException notThere) {
                    // try the next interpreter
                }
            }
            if (python == null) {
                throw new IllegalStateException("no python3 with the dkim and nacl modules: install python3-dkim "
                        + "and python3-nacl (Debian) as .ci/install-peers does");
            }
        }
        return python;
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("dkimpy", ".out");
        Path err = Files.createTempFile("dkimpy", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("dkimpy did not finish within 30 s: " + command);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

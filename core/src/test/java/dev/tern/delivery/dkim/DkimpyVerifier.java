package dev.tern.delivery.dkim;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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

    /**
     * Verifies many messages in one python run (a run costs about 0.2 s): for each message's id, the result of each of
     * its DKIM-Signatures in order (PASS, FAIL, ERROR:reason; CRASH:reason when dkimpy cannot read it).
     */
    static Map<String, List<String>> verifyAll(Map<String, byte[]> messages, Map<String, Path> records, Path workDir)
            throws IOException, InterruptedException {
        StringBuilder manifest = new StringBuilder();
        for (Map.Entry<String, byte[]> e : messages.entrySet()) {
            Path file = Files.write(workDir.resolve(e.getKey() + ".eml"), e.getValue());
            manifest.append(e.getKey()).append('\t').append(file).append('\n');
        }
        Path list = Files.writeString(workDir.resolve("manifest.txt"), manifest);
        List<String> command = new ArrayList<>(List.of(python(), script().toString(), "--batch", list.toString()));
        records.forEach((name, file) -> command.add(name + "=" + file));
        Result r = run(command, 60);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("dkimpy batch run failed: " + r.stderr());
        }
        Map<String, List<String>> results = new HashMap<>();
        for (String line : r.stdout().split("\n")) {
            if (!line.isBlank()) {
                String[] parts = line.split(" ");
                results.put(parts[0], List.of(parts).subList(1, parts.length));
            }
        }
        return results;
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
        return run(command, 30);
    }

    private static Result run(List<String> command, int seconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile("dkimpy", ".out");
        Path err = Files.createTempFile("dkimpy", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("dkimpy did not finish within " + seconds + " s: " + command);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

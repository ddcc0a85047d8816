package dev.tern.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real, small tmpfs for disk-full tests: mounted on a fresh directory, filled until {@code ENOSPC}, unmounted on
 * close. Mounting needs root (CI runs as root); without it the test is skipped, saying why.
 */
public final class SmallTmpfs implements AutoCloseable {
    private final Path root;
    private final long bytes;

    private SmallTmpfs(Path root, long bytes) {
        this.root = root;
        this.bytes = bytes;
    }

    /** Mounts a tmpfs of {@code mebibytes} MiB on {@code dir}, which must be an empty directory. */
    public static SmallTmpfs mount(Path dir, int mebibytes) throws Exception {
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + mebibytes + "m", "tmpfs", dir.toString()) == 0,
                "needs root to mount a small tmpfs (CI runs as root)");
        return new SmallTmpfs(dir, (long) mebibytes << 20);
    }

    public Path root() {
        return root;
    }

    /** Writes the file {@code name} until the file system has no space left; returns it, to delete for space. */
    public Path fill(String name) throws IOException {
        Path filler = root.resolve(name);
        ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long i = 0; i < bytes / chunk.capacity() + 16; i++) {
                chunk.clear();
                ch.write(chunk);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
            return filler;
        }
        throw new AssertionError("the tmpfs did not fill up: " + Files.size(filler) + " bytes written");
    }

    @Override
    public void close() throws Exception {
        run("umount", "-l", root.toString());
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}

package dev.tern.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenCycleFilesTest {
    @TempDir
    Path dir;

    private final OpenCycleFiles files = new OpenCycleFiles();

    @AfterEach
    void close() {
        files.close();
    }

    @Test
    void keepsOneChannelPerFileAcrossReads() throws Exception {
        Path cycle = Files.write(dir.resolve("20261125-19.cq4"), new byte[] {1, 2, 3});
        FileChannel first = files.channel(cycle);
        ByteBuffer b = ByteBuffer.allocate(3);
        first.read(b, 0);
        assertThat(files.channel(cycle)).isSameAs(first);
        assertThat(b.array()).containsExactly(1, 2, 3);
        assertThat(files.size()).isEqualTo(1);
    }

    @Test
    void forgettingAFileClosesItsChannelAndALaterReadOpensAFreshOne() throws Exception {
        Path cycle = Files.write(dir.resolve("20261125-19.cq4"), new byte[] {1});
        FileChannel first = files.channel(cycle);
        files.forget(cycle);
        assertThat(first.isOpen()).isFalse();
        assertThat(files.size()).isZero();
        FileChannel again = files.channel(cycle);
        assertThat(again).isNotSameAs(first);
        assertThat(again.isOpen()).isTrue();
    }

    @Test
    void aDeletedCycleFailsWithNoSuchFileSoTheReaderLooksTheBodyUpAgain() {
        assertThatThrownBy(() -> files.channel(dir.resolve("gone.cq4"))).isInstanceOf(NoSuchFileException.class);
        assertThat(files.size()).isZero();
    }

    @Test
    void closeClosesEveryChannel() throws Exception {
        FileChannel a = files.channel(Files.write(dir.resolve("a.cq4"), new byte[] {1}));
        FileChannel b = files.channel(Files.write(dir.resolve("b.cq4"), new byte[] {2}));
        files.close();
        assertThat(a.isOpen()).isFalse();
        assertThat(b.isOpen()).isFalse();
        assertThat(files.size()).isZero();
    }
}

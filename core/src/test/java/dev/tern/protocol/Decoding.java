package dev.tern.protocol;

import dev.tern.config.LineEndingPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/** Test driver: feeds DATA input to a {@link DataDecoder} in pieces and collects the output. */
final class Decoding {
    /** Result of one DATA decode: the content, whether END was seen, where the input stood, and the flags. */
    record Result(byte[] content, boolean ended, int consumed, long contentLength, boolean tooBig,
                  boolean lineTooLong, boolean badLineEnding) {
        String text() {
            return new String(content, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    private Decoding() {
    }

    static Result data(byte[] input, LineEndingPolicy policy) {
        return data(input, policy, 1 << 20, 1000, new int[0], 64 * 1024);
    }

    /**
     * Decodes {@code input} split at the given ascending offsets (each piece arrives as a separate read into a
     * compacted buffer), with an output buffer of {@code outSize} octets drained whenever it fills.
     */
    static Result data(byte[] input, LineEndingPolicy policy, long maxSize, int maxLine, int[] splits, int outSize) {
        DataDecoder decoder = new DataDecoder(maxSize, maxLine, policy);
        ByteBuffer in = ByteBuffer.allocate(input.length + 1).limit(0);
        ByteBuffer out = ByteBuffer.allocate(outSize);
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        int fed = 0;
        int consumed = 0;
        boolean ended = false;
        int piece = 0;
        while (!ended && fed <= input.length) {
            int next = piece < splits.length ? splits[piece++] : input.length;
            in.compact();
            in.put(input, fed, next - fed);
            in.flip();
            fed = next;
            for (int guard = 0; guard < input.length * 4 + 16; guard++) {
                int before = in.position();
                int status = decoder.decode(in, out);
                consumed += in.position() - before;
                if (status == DataDecoder.OUTPUT_FULL) {
                    drain(out, content);
                    continue;
                }
                if (status == DataDecoder.END) {
                    ended = true;
                }
                break;
            }
            if (fed == input.length) {
                break;
            }
        }
        drain(out, content);
        return new Result(content.toByteArray(), ended, consumed, decoder.contentLength(), decoder.tooBig(),
                decoder.lineTooLong(), decoder.badLineEnding());
    }

    private static void drain(ByteBuffer out, ByteArrayOutputStream content) {
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        content.write(b, 0, b.length);
        out.clear();
    }

    /** RFC 5321 4.5.2 transparency: a line starting with "." gets another "." in front; then ".CRLF". */
    static byte[] dotStuff(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean lineStart = true;
        for (int i = 0; i < content.length; i++) {
            byte b = content[i];
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n' && i > 0 && content[i - 1] == '\r';
        }
        out.writeBytes(TestBytes.latin1(".\r\n"));
        return out.toByteArray();
    }
}

package dev.tern.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Test helpers: buffers from text, with C-style escapes for golden files. */
final class TestBytes {
    private TestBytes() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Latin-1: each char below 256 becomes exactly one octet (for raw 8-bit input). */
    static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A direct buffer holding {@code prefix} junk then {@code bytes}, positioned at the bytes (absolute indexes). */
    static ByteBuffer directAfterJunk(byte[] bytes, int junk) {
        ByteBuffer b = ByteBuffer.allocateDirect(junk + bytes.length + 16);
        for (int i = 0; i < junk; i++) {
            b.put((byte) 'Z');
        }
        b.put(bytes);
        b.flip();
        b.position(junk);
        return b;
    }

    static String string(ByteBuffer b, int from, int to) {
        byte[] out = new byte[to - from];
        b.get(from, out);
        return new String(out, StandardCharsets.UTF_8);
    }

    /** Everything written to {@code out} (a buffer in write mode, from 0 to its position). */
    static byte[] written(ByteBuffer out) {
        byte[] b = new byte[out.position()];
        out.get(0, b);
        return b;
    }

    /** Decodes {@code \r \n \t \0 \\ \xNN} escapes (golden files keep control octets visible). */
    static byte[] unescape(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case '0' -> out.write(0);
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("bad escape \\" + e + " in " + s);
            }
        }
        return out.toByteArray();
    }
}

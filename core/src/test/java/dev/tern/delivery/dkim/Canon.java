package dev.tern.delivery.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Test helpers running the canonicalizers on strings (ISO-8859-1: one char per byte). */
final class Canon {
    private Canon() {
    }

    static String body(String body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RelaxedBodyCanonicalizer c = new RelaxedBodyCanonicalizer(out::write);
        byte[] b = body.getBytes(StandardCharsets.ISO_8859_1);
        c.update(b, 0, b.length);
        c.finish();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Feeds the body as direct buffers cut at the given split points (ascending, within the body). */
    static String bodyInPieces(String body, int... splits) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RelaxedBodyCanonicalizer c = new RelaxedBodyCanonicalizer(out::write);
        byte[] b = body.getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        for (int i = 0; i <= splits.length; i++) {
            int to = i < splits.length ? splits[i] : b.length;
            ByteBuffer piece = ByteBuffer.allocateDirect(to - from + 3);
            piece.put(1, b, from, to - from).position(1).limit(1 + to - from);
            c.update(piece, piece.position(), piece.limit());
            from = to;
        }
        c.finish();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    static String header(String field) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = field.getBytes(StandardCharsets.ISO_8859_1);
        RelaxedHeaderCanonicalizer.canonicalize(b, 0, b.length, out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}

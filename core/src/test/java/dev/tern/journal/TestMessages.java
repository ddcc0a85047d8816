package dev.tern.journal;

import dev.tern.buffer.BufferPool;
import dev.tern.message.Envelope;
import dev.tern.message.MessageBody;
import dev.tern.message.QueueId;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Builds envelopes and bodies for journal tests, and reads bodies back. */
final class TestMessages {
    private TestMessages() {
    }

    static Envelope envelope(long queueId, String sender, String... recipients) {
        Envelope e = new Envelope();
        e.begin(queueId, 1_700_000_000_000L, Envelope.utf8("192.0.2.1"), Envelope.utf8("client.example"));
        ByteBuffer s = ByteBuffer.wrap(Envelope.utf8(sender));
        e.sender(s, 0, s.limit());
        ByteBuffer none = ByteBuffer.allocate(0);
        e.mailParameters(-1, Envelope.BODY_8BITMIME, false, Envelope.RET_UNSPECIFIED, none, 0, 0);
        for (String r : recipients) {
            ByteBuffer a = ByteBuffer.wrap(Envelope.utf8(r));
            e.addRecipient(a, 0, a.limit(), 0, none, 0, 0);
        }
        return e;
    }

    /** Commits one message of {@code content} under a fresh queue id, on the calling thread; returns the id. */
    static long commit(Journal j, BufferPool pool, byte[] content, String sender, String... recipients)
            throws JournalException {
        long id = QueueId.next();
        MessageBody b = body(pool, content);
        try {
            j.commit(envelope(id, sender, recipients), b);
        } finally {
            b.release();
        }
        return id;
    }

    /** A sealed body holding {@code content}, spread over the pool's chunks. */
    static MessageBody body(BufferPool pool, byte[] content) {
        MessageBody b = new MessageBody(pool);
        if (!b.append(content, 0, content.length)) {
            throw new IllegalStateException("pool exhausted");
        }
        b.seal();
        return b;
    }

    /** Deterministic pseudo-random CRLF text of about {@code size} bytes. */
    static byte[] content(long seed, int size) {
        Random r = new Random(seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 80);
        out.writeBytes(("Subject: test " + seed + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        while (out.size() < size) {
            int n = 1 + r.nextInt(76);
            for (int i = 0; i < n; i++) {
                out.write('a' + r.nextInt(26));
            }
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    static byte[] readBody(Journal j, long id) throws JournalException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        j.readBody(id, piece -> {
            byte[] b = new byte[piece.remaining()];
            piece.get(b);
            out.writeBytes(b);
        });
        return out.toByteArray();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}

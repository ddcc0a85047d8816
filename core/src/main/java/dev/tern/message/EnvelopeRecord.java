package dev.tern.message;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A decoded, immutable envelope (see {@link Envelope} for the encoding). Used off the accept hot path: delivery,
 * bounces, {@code tern queue}. Addresses are UTF-8 (RFC 6531 allows it under SMTPUTF8); an empty sender is {@code <>}.
 */
public record EnvelopeRecord(long queueId, long receivedAtMillis, String client, String helo, String sender,
                             long size, int body, boolean smtputf8, int ret, String envid,
                             List<Recipient> recipients) {

    /** One forward-path with its RFC 3461 parameters; {@code orcpt} is empty when not given. */
    public record Recipient(String address, int notifyFlags, String orcpt) {
    }

    public boolean nullSender() {
        return sender.isEmpty();
    }

    /** Decodes from {@code src}'s position to its limit; throws {@link IllegalArgumentException} if malformed. */
    public static EnvelopeRecord decode(ByteBuffer src) {
        try {
            ByteBuffer b = src.slice();
            int version = b.get();
            if (version != Envelope.VERSION) {
                throw new IllegalArgumentException("unknown envelope version " + version);
            }
            long id = b.getLong();
            long at = b.getLong();
            String client = string(b);
            String helo = string(b);
            String sender = string(b);
            long size = b.getLong();
            int body = b.get();
            boolean utf8 = b.get() != 0;
            int ret = b.get();
            String envid = string(b);
            int n = Short.toUnsignedInt(b.getShort());
            List<Recipient> rcpts = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String addr = string(b);
                int notify = b.get();
                String orcpt = string(b);
                rcpts.add(new Recipient(addr, notify, orcpt));
            }
            return new EnvelopeRecord(id, at, client, helo, sender, size, body, utf8, ret, envid, List.copyOf(rcpts));
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated envelope", e);
        }
    }

    private static String string(ByteBuffer b) {
        int n = Short.toUnsignedInt(b.getShort());
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}

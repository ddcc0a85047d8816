package dev.tern.delivery;

import java.io.IOException;

/** A next hop could not be used (connect refused, bad greeting, EHLO refused); carries the reply to report. */
final class HopFailure extends IOException {
    private final transient SmtpReply reply;

    HopFailure(SmtpReply reply) {
        super(reply.oneLine());
        this.reply = reply;
    }

    SmtpReply reply() {
        return reply;
    }
}

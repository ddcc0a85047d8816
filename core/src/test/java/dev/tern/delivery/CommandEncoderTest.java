package dev.tern.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tern.message.Envelope;
import dev.tern.message.EnvelopeRecord;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandEncoderTest {
    private static final EhloCapabilities PLAIN = new EhloCapabilities(true, true, 0, false, true, false, false);
    private static final EhloCapabilities ALL = new EhloCapabilities(true, true, 10_000_000, true, true, true, true);

    private final ByteBuffer out = ByteBuffer.allocateDirect(512);

    private String written() {
        byte[] b = new byte[out.position()];
        out.get(0, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static EnvelopeRecord envelope(String sender, int body, boolean utf8, int ret, String envid,
                                           EnvelopeRecord.Recipient... rcpts) {
        return new EnvelopeRecord(7, 0, "127.0.0.1", "client.test", sender, 0, body, utf8, ret, envid,
                List.of(rcpts));
    }

    @Test
    void writesAPlainMailCommandWhenThePeerOffersNoParameters() {
        CommandEncoder.mail(out, envelope("a@b.test", Envelope.BODY_8BITMIME, false, Envelope.RET_FULL, "id1"), 1234,
                PLAIN);

        assertThat(written()).isEqualTo("MAIL FROM:<a@b.test>\r\n");
    }

    @Test
    void writesEveryMailParameterThePeerOffers() {
        CommandEncoder.mail(out, envelope("a@b.test", Envelope.BODY_8BITMIME, true, Envelope.RET_HDRS, "id+2B1"),
                1234, ALL);

        assertThat(written()).isEqualTo("MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS "
                + "ENVID=id+2B1\r\n");
    }

    @Test
    void writesTheNullReversePath() {
        CommandEncoder.mail(out, envelope("", Envelope.BODY_7BIT, false, Envelope.RET_UNSPECIFIED, ""), 0, ALL);

        assertThat(written()).isEqualTo("MAIL FROM:<> SIZE=0 BODY=7BIT\r\n");
    }

    @Test
    void writesNotifyFlagsInRfc3461OrderAndOrcpt() {
        int flags = Envelope.NOTIFY_DELAY | Envelope.NOTIFY_FAILURE | Envelope.NOTIFY_SUCCESS;
        CommandEncoder.rcpt(out, new EnvelopeRecord.Recipient("c@d.test", flags, "rfc822;c@d.test"), ALL);

        assertThat(written()).isEqualTo("RCPT TO:<c@d.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;c@d.test\r\n");
    }

    @Test
    void writesNotifyNeverAlone() {
        CommandEncoder.rcpt(out, new EnvelopeRecord.Recipient("c@d.test", Envelope.NOTIFY_NEVER, ""), ALL);

        assertThat(written()).isEqualTo("RCPT TO:<c@d.test> NOTIFY=NEVER\r\n");
    }

    @Test
    void leavesDsnParametersOutWhenThePeerDoesNotOfferDsn() {
        CommandEncoder.rcpt(out, new EnvelopeRecord.Recipient("c@d.test", Envelope.NOTIFY_NEVER, "rfc822;x@y"), PLAIN);

        assertThat(written()).isEqualTo("RCPT TO:<c@d.test>\r\n");
    }

    @Test
    void writesInternationalisedAddressesAsUtf8() {
        String address = "j\u00f6rg.\u4e2d\u6587\ud83d\udce7@b\u00fccher.test";
        CommandEncoder.rcpt(out, new EnvelopeRecord.Recipient(address, 0, ""), PLAIN);

        byte[] b = new byte[out.position()];
        out.get(0, b);
        assertThat(b).isEqualTo(("RCPT TO:<" + address + ">\r\n").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void writesBdatWithItsSizeAndLast() {
        CommandEncoder.bdat(out, 0, true);
        CommandEncoder.bdat(out, 65536, false);
        CommandEncoder.bdat(out, Long.MAX_VALUE, true);

        assertThat(written()).isEqualTo("BDAT 0 LAST\r\nBDAT 65536\r\nBDAT " + Long.MAX_VALUE + " LAST\r\n");
        assertThat("BDAT " + Long.MAX_VALUE + " LAST\r\n").hasSize(CommandEncoder.MAX_BDAT_LINE);
    }

    @Test
    void throwsOverflowWhenTheCommandDoesNotFit() {
        ByteBuffer small = ByteBuffer.allocate(16);

        assertThatThrownBy(() -> CommandEncoder.rcpt(small, new EnvelopeRecord.Recipient("long-address@d.test", 0,
                ""), PLAIN)).isInstanceOf(BufferOverflowException.class);
    }
}

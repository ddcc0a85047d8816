package dev.tern.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SinkSettingsTest {
    @Test
    void parsesEveryFaultFromText() {
        SinkSettings s = SinkSettings.builder().faults("tempfail-rcpt=0.1, reject-rcpt=0.2,tempfail-data=0.05,"
                + "reject-data=0.01,disconnect-data=0.02,slow=0.5:250").build();

        assertThat(s.tempfailRcptRatio()).isEqualTo(0.1);
        assertThat(s.rejectRcptRatio()).isEqualTo(0.2);
        assertThat(s.tempfailDataRatio()).isEqualTo(0.05);
        assertThat(s.rejectDataRatio()).isEqualTo(0.01);
        assertThat(s.disconnectDataRatio()).isEqualTo(0.02);
        assertThat(s.slowReplyRatio()).isEqualTo(0.5);
        assertThat(s.slowReplyDelay()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void rejectsAnUnknownFaultByName() {
        assertThatThrownBy(() -> SinkSettings.builder().faults("explode=1")).hasMessageContaining("explode");
    }

    @Test
    void rejectsRatiosOfOneStepAddingUpToMoreThanOne() {
        assertThatThrownBy(() -> SinkSettings.builder().faults("tempfail-rcpt=0.7,reject-rcpt=0.7").build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsARatioOutsideZeroToOne() {
        assertThatThrownBy(() -> SinkSettings.builder().tempfailDataRatio(1.5).build())
                .hasMessageContaining("tempfailDataRatio");
    }
}

package dev.graft.plugin.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.testing.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelSettingsTest {

  @Test
  void exampleModelFolder() {
    ModelSettings s = ModelSettings.readFolder(Fixtures.exampleModelFolder());
    assertThat(s.translator()).hasValue("image-classification");
    assertThat(s.image()).isEqualTo(new ModelSettings.ImageGeometry(28, 28, 1));
    assertThat(s.topK()).isEqualTo(5);
    assertThat(s.optLevel()).isEqualTo("EXTENDED_OPT");
    assertThat(s.intraOpThreads()).isEqualTo(1);
    assertThat(s.sessionConfig()).containsEntry("session.intra_op.allow_spinning", "0");
  }

  @Test
  void dottedOptionsAreSessionConfigEntriesAndBatchKeysAreKept() {
    ModelSettings s =
        ModelSettings.parse(
            Map.of(
                "option.session.intra_op.allow_spinning", "1",
                "option.session.inter_op.allow_spinning", "0",
                "batch_size", "8",
                "max_batch_delay", "50",
                "option.optLevel", "all_opt"),
            "test");
    assertThat(s.sessionConfig())
        .containsEntry("session.intra_op.allow_spinning", "1")
        .containsEntry("session.inter_op.allow_spinning", "0");
    assertThat(s.batchSize()).isEqualTo(8);
    assertThat(s.maxBatchDelay()).isEqualTo(50);
    assertThat(s.optLevel()).isEqualTo("ALL_OPT");
  }

  @Test
  void otherEnginesAndBadValuesAreRefused() {
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("engine", "TensorFlow"), "t"))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION));
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("option.optLevel", "FAST"), "t"))
        .hasMessageContaining("option.optLevel must be one of");
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("graft.image.channels", "2"), "t"))
        .hasMessageContaining("must be 1 or 3");
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("graft.topk", "x"), "t"))
        .hasMessageContaining("graft.topk");
  }
}

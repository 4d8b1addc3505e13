package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitOptionsTest {
  @Test
  void defaultsAreAutoAfterFourLayersWithPrepackedStems() {
    SplitOptions o = SplitOptions.of(ModelSettings.defaults());

    assertThat(o).isEqualTo(SplitOptions.defaults());
    assertThat(o.mode()).isEqualTo(SplitOptions.Mode.AUTO);
    assertThat(o.layers()).isEqualTo(4);
    assertThat(o.prepack()).as("exact by default").isTrue();
    assertThat(o.compact()).as("exact by default").isFalse();
  }

  @Test
  void everyKeyIsRead() {
    SplitOptions o =
        of(
            Map.of(
                "option.graft.split", "ON",
                "option.graft.split.cut", "a, b",
                "option.graft.split.layers", "2",
                "option.graft.split.ratio", "0.25",
                "option.graft.split.prepack", "false",
                "option.graft.split.compact", "true"));

    assertThat(o.mode()).isEqualTo(SplitOptions.Mode.ON);
    assertThat(o.cut().orElseThrow().tensors()).containsExactly("a", "b");
    assertThat(o.layers()).isEqualTo(2);
    assertThat(o.ratio()).isEqualTo(0.25);
    assertThat(o.prepack()).isFalse();
    assertThat(o.compact()).isTrue();
  }

  @Test
  void graftKeysAreNotPassedToOnnxRuntime() {
    ModelSettings s =
        ModelSettings.parse(
            Map.of("option.graft.split", "on", "option.session.intra_op.allow_spinning", "1"),
            "test");

    assertThat(SessionSettings.of(s).configEntries())
        .as("ONNX Runtime gets its own entries only")
        .containsEntry("session.intra_op.allow_spinning", "1")
        .doesNotContainKey("graft.split");
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertRefused(
        Map.of("option.graft.split", "maybe"), "option.graft.split must be auto, on or off");
    assertRefused(Map.of("option.graft.split.ratio", "2"), "option.graft.split.ratio must be");
    assertRefused(Map.of("option.graft.split.layers", "zero"), "option.graft.split.layers must be");
    assertRefused(Map.of("option.graft.split.prepack", "yes"), "must be true or false");
    assertRefused(
        Map.of("option.graft.split.compact", "1"),
        "option.graft.split.compact must be true or false");
    assertRefused(
        Map.of("option.graft.split.cut", "x", "option.graft.split.after", "convs.3"), "not both");
  }

  private static SplitOptions of(Map<String, String> raw) {
    return SplitOptions.of(ModelSettings.parse(raw, "test"));
  }

  private static void assertRefused(Map<String, String> raw, String message) {
    assertThatThrownBy(() -> of(raw))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }
}

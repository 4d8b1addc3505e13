package dev.graft.plugin.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The input and output names and shapes of models whose files do not declare them. */
class ModelSettingsIoTest {

  @Test
  void defaultsAreOneInputAndOneOutputOfAnyShape() {
    ModelSettings.Io io = ModelSettings.pyTorchDefaults().io();

    assertThat(io.inputs()).containsExactly("input");
    assertThat(io.outputs()).containsExactly("output");
    assertThat(io.shapes()).as("no translator, no graft.shape.*").isEmpty();
    assertThat(ModelSettings.pyTorchDefaults().isPyTorch()).isTrue();
  }

  @Test
  void anImageClassifiersFirstInputTakesTheImageGeometry() {
    ModelSettings s =
        ModelSettings.parse(
            Map.of(
                "engine", "pytorch",
                "translator", "image-classification",
                "graft.image.width", "32",
                "graft.image.height", "24",
                "graft.image.channels", "3",
                "graft.outputs", "logits"),
            "t");

    assertThat(s.isPyTorch()).as("engine names are case-insensitive").isTrue();
    assertThat(s.io().shapes()).containsExactly(Map.entry("input", List.of(-1L, 3L, 24L, 32L)));
    assertThat(s.io().outputs()).containsExactly("logits");
  }

  @Test
  void namesAndShapesAreConfigurable() {
    ModelSettings.Io io =
        ModelSettings.parse(
                Map.of(
                    "engine", "PyTorch",
                    "graft.inputs", "ids, mask",
                    "graft.outputs", "a,b",
                    "graft.shape.mask", "-1, 128"),
                "t")
            .io();

    assertThat(io.inputs()).containsExactly("ids", "mask");
    assertThat(io.outputs()).containsExactly("a", "b");
    assertThat(io.shapes()).containsExactly(Map.entry("mask", List.of(-1L, 128L)));
  }

  @Test
  void badNamesAndShapesAreRefused() {
    assertThatThrownBy(
            () -> ModelSettings.parse(Map.of("graft.inputs", "x,x"), "serving.properties"))
        .hasMessageContaining("serving.properties: graft.inputs must list distinct names");
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("graft.shape.input", "1,0"), "t"))
        .hasMessageContaining("graft.shape.input must be comma-separated sizes");
    assertThatThrownBy(() -> ModelSettings.parse(Map.of("graft.shape.input", "a"), "t"))
        .hasMessageContaining("graft.shape.input must be comma-separated sizes");
  }
}

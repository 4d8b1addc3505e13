package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadSettingsTest {
  private static Map<String, String> declared() {
    Map<String, String> raw = new HashMap<>();
    raw.put("engine", "OnnxRuntime");
    raw.put("graft.head.name", "digits");
    raw.put("graft.head.features", "features");
    raw.put("graft.head.init", "head.safetensors");
    return raw;
  }

  @Test
  void noHeadKeysMeansNoHead() {
    assertThat(HeadSettings.parse(Map.of("engine", "OnnxRuntime"), "serving.properties"))
        .as("a folder without graft.head.* keys has no head")
        .isEmpty();
  }

  @Test
  void aDeclarationWithDefaults() {
    HeadSettings s = HeadSettings.parse(declared(), "serving.properties").orElseThrow();

    assertThat(s)
        .as("output and history take their defaults")
        .isEqualTo(new HeadSettings("digits", "features", "head.safetensors", "logits", 32));
  }

  @Test
  void theExampleModelDeclaresItsHead() {
    assertThat(HeadSettings.readFolder(WaFixtures.exampleModelFolder()))
        .as("model-store/mnist-wa/serving.properties")
        .hasValue(new HeadSettings("digits", "features", "head-task0.safetensors", "logits", 32));
  }

  @Test
  void anIncompleteDeclarationIsRefused() {
    Map<String, String> raw = declared();
    raw.remove("graft.head.features");

    assertThatThrownBy(() -> HeadSettings.parse(raw, "serving.properties"))
        .as("features is required once a head is declared")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("graft.head.features is missing");
  }

  @Test
  void headNamesKeepTheHeaderSeparatorsFree() {
    Map<String, String> raw = declared();
    raw.put("graft.head.name", "a;b");

    assertThatThrownBy(() -> HeadSettings.parse(raw, "serving.properties"))
        .as("';' separates the head tag in X-Graft-Weights")
        .hasMessageContaining("must be 1-128 letters");
  }

  @Test
  void theInitialHeadMustBeAFileOfTheModelFolder() {
    for (String init :
        new String[] {"../other/head.safetensors", "/srv/heads/head.safetensors", ".."}) {
      Map<String, String> raw = declared();
      raw.put("graft.head.init", init);

      assertThatThrownBy(() -> HeadSettings.parse(raw, "serving.properties"))
          .as("init=%s leaves the model folder", init)
          .hasMessageContaining("must name a file in the model folder");
    }
  }

  @Test
  void historyMustKeepAtLeastTheParent() {
    Map<String, String> raw = declared();
    raw.put("graft.head.history", "1");

    assertThatThrownBy(() -> HeadSettings.parse(raw, "serving.properties"))
        .as("one kept version could not roll back")
        .hasMessageContaining("history must be an integer in [2, 100000]");
  }
}

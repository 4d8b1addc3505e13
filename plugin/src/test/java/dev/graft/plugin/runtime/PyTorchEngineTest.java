package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.TorchFixtures;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyTorchEngineTest {
  private static final Path CACHE = Path.of("cache");

  private static PyTorchEngine engine(Map<String, String> env, Map<String, String> props) {
    return new PyTorchEngine(PyTorchEngine.ENGINE_CLASS, CACHE, env::get, props::get);
  }

  @Test
  void isInstalledWhenDjlsPyTorchEngineIsOnTheClassPath() {
    assertThat(TorchFixtures.engine().installed())
        .as("the test class path carries the optional DJL jars")
        .isTrue();
  }

  @Test
  void missingEngineIsAFailedPreconditionNamingTheModel() {
    PyTorchEngine missing = new PyTorchEngine("no.such.PtEngine", CACHE, k -> null, k -> null);

    assertThat(missing.installed()).isFalse();
    assertThatThrownBy(
            () ->
                missing.open(
                    "vgg-pt",
                    TorchFixtures.pt("clean"),
                    ModelSettings.pyTorchDefaults().io(),
                    TorchFixtures.weights("clean")))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining(
            "model vgg-pt: engine=PyTorch, but the PyTorch engine is not installed");
  }

  @Test
  void goesOfflineWithoutTrackingAndCachesUnderTheConfiguredFolder() {
    assertThat(engine(Map.of(), Map.of()).switches())
        .containsExactly(
            Map.entry("ai.djl.offline", "true"),
            Map.entry("OPT_OUT_TRACKING", "true"),
            Map.entry("ENGINE_CACHE_DIR", CACHE.toString()));
  }

  @Test
  void leavesSwitchesTheEnvironmentOrAPropertyAlreadySet() {
    assertThat(
            engine(Map.of("DJL_OFFLINE", "false", "DJL_CACHE_DIR", "/elsewhere"), Map.of())
                .switches())
        .as("DJL_CACHE_DIR also moves the engine cache: keep it")
        .containsExactly(Map.entry("OPT_OUT_TRACKING", "true"));
    assertThat(
            engine(Map.of(), Map.of("ENGINE_CACHE_DIR", "/x", "OPT_OUT_TRACKING", "false"))
                .switches())
        .containsExactly(Map.entry("ai.djl.offline", "true"));
  }
}

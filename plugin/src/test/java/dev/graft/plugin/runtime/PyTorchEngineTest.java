package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.TorchFixtures;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyTorchEngineTest {
  private static final Path CACHE = Path.of("cache");

  private static PyTorchEngine engine(Map<String, String> env, Map<String, String> props) {
    return new PyTorchEngine(
        PyTorchEngine.ENGINE_CLASS,
        CACHE,
        Map.of("ai.djl.pytorch.num_threads", "1"),
        env::get,
        props::get);
  }

  @Test
  void isInstalledWhenDjlsPyTorchEngineIsOnTheClassPath() {
    assertThat(TorchFixtures.engine().installed())
        .as("the test class path carries the optional DJL jars")
        .isTrue();
  }

  @Test
  void missingEngineIsAFailedPreconditionNamingTheModel() {
    PyTorchEngine missing =
        new PyTorchEngine("no.such.PtEngine", CACHE, Map.of(), k -> null, k -> null);

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
            Map.entry("ENGINE_CACHE_DIR", CACHE.toString()),
            Map.entry("ai.djl.pytorch.num_threads", "1"));
  }

  @Test
  void engineOptionsComeFromTheConfiguration() {
    PyTorchEngine configured =
        PyTorchEngine.of(
            GraftConfig.of(
                Map.of(PyTorchEngine.NUM_THREADS, "2", PyTorchEngine.GRAPH_OPTIMIZER, "true"),
                Path.of("")));

    assertThat(configured.options())
        .containsEntry("ai.djl.pytorch.graph_optimizer", "true")
        .containsEntry("ai.djl.pytorch.num_threads", "2")
        .doesNotContainKey("ai.djl.pytorch.num_interop_threads");
    assertThat(PyTorchEngine.of(GraftConfig.of(Map.of(), Path.of(""))).options())
        .as("the profiling graph executor is off unless asked for")
        .containsEntry("ai.djl.pytorch.graph_optimizer", "false");
    assertThatThrownBy(
            () ->
                PyTorchEngine.of(
                    GraftConfig.of(Map.of(PyTorchEngine.NUM_THREADS, "0"), Path.of(""))))
        .hasMessageContaining("graft.pytorch.num_threads must be an integer in [1, 1024]");
  }

  @Test
  void leavesSwitchesTheEnvironmentOrAPropertyAlreadySet() {
    assertThat(
            engine(Map.of("DJL_OFFLINE", "false", "DJL_CACHE_DIR", "/elsewhere"), Map.of())
                .switches())
        .as("DJL_CACHE_DIR also moves the engine cache: keep it")
        .containsExactly(
            Map.entry("OPT_OUT_TRACKING", "true"), Map.entry("ai.djl.pytorch.num_threads", "1"));
    assertThat(
            engine(Map.of(), Map.of("ENGINE_CACHE_DIR", "/x", "OPT_OUT_TRACKING", "false"))
                .switches())
        .containsExactly(
            Map.entry("ai.djl.offline", "true"), Map.entry("ai.djl.pytorch.num_threads", "1"));
  }
}

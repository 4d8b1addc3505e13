package dev.graft.plugin.testing;

import dev.graft.onnx.rws.ModelWeights;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.PyTorchEngine;
import dev.graft.torchscript.TorchScriptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The TorchScript twins of the VGG fixtures and the PyTorch engine as tests use it: offline, with
 * its native library extracted once into the repository's {@code work/djl-cache} (git-ignored,
 * shared with a server started from the repository root).
 */
public final class TorchFixtures {
  /** {@code serving.properties} of the example TorchScript model folder. */
  public static final String SERVING_PROPERTIES =
      String.join(
          "\n",
          "engine=PyTorch",
          "translator=image-classification",
          "graft.image.width=28",
          "graft.image.height=28",
          "graft.image.channels=1",
          "graft.outputs=logits",
          "");

  private TorchFixtures() {}

  /** {@code fixtures/rws/mnist-vgg-<variant>.pt}. */
  public static Path pt(String variant) {
    return Fixtures.rws("mnist-vgg-" + variant + ".pt");
  }

  /** The engine with the native cache under the repository's {@code work/}. */
  public static PyTorchEngine engine() {
    return PyTorchEngine.of(config());
  }

  /**
   * A configuration whose PyTorch cache is the repository's {@code work/djl-cache}, with one
   * intra-op thread (steady timings on a small shared machine; the engine is process-wide, so the
   * first test to start it decides).
   */
  public static GraftConfig config() {
    return GraftConfig.of(Map.of(PyTorchEngine.NUM_THREADS, "1"), Fixtures.repoRoot());
  }

  /** The settings of {@link #SERVING_PROPERTIES}. */
  public static ModelSettings settings() {
    return ModelSettings.parse(
        Map.of(
            "engine", "PyTorch",
            "translator", "image-classification",
            "graft.image.width", "28",
            "graft.image.height", "28",
            "graft.outputs", "logits"),
        "test");
  }

  /** Opens a fixture on the PyTorch engine; the caller closes it. */
  public static ModelRuntime open(String name, String variant) {
    return engine().open(name, pt(variant), settings().io(), weights(variant));
  }

  public static ModelWeights weights(String variant) {
    return ModelWeights.of(TorchScriptModel.load(pt(variant)));
  }

  /** Writes a model folder {@code store/<folder>} serving {@code mnist-vgg-<variant>.pt}. */
  public static Path modelFolder(Path store, String folder, String variant) throws IOException {
    Path target = Files.createDirectories(store.resolve(folder));
    Files.copy(pt(variant), target.resolve(folder + ".pt"));
    Files.writeString(target.resolve(ModelSettings.FILE_NAME), SERVING_PROPERTIES);
    Files.copy(Fixtures.exampleModelFolder().resolve("synset.txt"), target.resolve("synset.txt"));
    return target;
  }
}

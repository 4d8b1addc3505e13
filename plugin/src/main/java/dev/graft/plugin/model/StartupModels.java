package dev.graft.plugin.model;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.runtime.PyTorchEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Registers the models named by {@code load_models} at start-up: {@code ALL} (every folder of the
 * store holding an {@code .onnx} or {@code .pt} file, and every bare such file in it) or a comma
 * list of folder names, each optionally as {@code name=folder}. Stateless.
 */
public final class StartupModels {
  private static final Logger LOG = Logger.getLogger(StartupModels.class.getName());

  private StartupModels() {}

  /**
   * Loads the configured models into {@code registry}.
   *
   * @throws GraftException when a model named explicitly, or an ONNX model found by {@code ALL},
   *     cannot be loaded (folders of other engines are skipped under {@code ALL})
   */
  public static void load(GraftConfig config, ModelStore store, ModelRegistry registry) {
    ModelLoader loader = new ModelLoader(PyTorchEngine.of(config), config.weightCache());
    if (config.loadAllModels()) {
      for (Path p : candidates(store.root())) {
        String name = ModelLoader.defaultName(p);
        try {
          registry.register(name, () -> loader.load(name, p, p.getFileName().toString()));
        } catch (GraftException e) {
          if (e.code() != GraftException.Code.FAILED_PRECONDITION) {
            throw e;
          }
          LOG.warning("load_models=ALL: skipping " + p.getFileName() + ": " + e.getMessage());
        }
      }
      return;
    }
    for (String entry : config.loadModels()) {
      int eq = entry.indexOf('=');
      String url = eq < 0 ? entry : entry.substring(eq + 1).trim();
      Path path = store.resolve(url, "load_models entry");
      String name = eq < 0 ? ModelLoader.defaultName(path) : entry.substring(0, eq).trim();
      registry.register(name, () -> loader.load(name, path, url));
    }
  }

  private static List<Path> candidates(Path root) {
    if (!Files.isDirectory(root)) {
      LOG.warning("load_models=ALL but the model store " + root + " does not exist");
      return List.of();
    }
    try (Stream<Path> entries = Files.list(root)) {
      return entries.filter(StartupModels::isModel).sorted().toList();
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, "cannot list the model store: " + e.getMessage(), e);
    }
  }

  private static boolean isModel(Path p) {
    if (Files.isRegularFile(p)) {
      return isModelFile(p);
    }
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (Stream<Path> files = Files.list(p)) {
      return files.anyMatch(StartupModels::isModelFile);
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isModelFile(Path p) {
    String n = p.getFileName().toString();
    return n.endsWith(ModelLoader.ONNX) || n.endsWith(ModelLoader.PT);
  }
}

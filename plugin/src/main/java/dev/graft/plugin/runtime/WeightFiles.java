package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtEnvironment;
import dev.graft.onnx.ExternalData;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The external data files of one loaded model, in a private folder under the weight cache. Each
 * model part (the whole model, a body) is written once as a small graph plus a data file of its big
 * initializers, then memory-mapped ({@link MappedWeights}). {@link #close} deletes the folder;
 * mappings still in use stay valid (the files are unlinked, not truncated). Thread safe.
 */
final class WeightFiles implements AutoCloseable {
  /** Initializers smaller than this stay in the graph: mapping them would save nothing. */
  static final long MIN_MAPPED_BYTES = 4096;

  private final Path dir;
  private final OrtEnvironment env;

  private WeightFiles(Path dir, OrtEnvironment env) {
    this.dir = dir;
    this.env = env;
  }

  /**
   * Creates a fresh folder for a model under {@code root}.
   *
   * @throws GraftException {@code INTERNAL} when it cannot be created
   */
  static WeightFiles create(Path root, String model, OrtEnvironment env) {
    try {
      Files.createDirectories(root);
      String safe = model.replaceAll("[^A-Za-z0-9_.-]", "_");
      return new WeightFiles(Files.createTempDirectory(root, safe + "-"), env);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL,
          "cannot create a weight cache folder under " + root + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Writes {@code part} as {@code name.onnx} + {@code name.data} and maps it. The caller owns the
   * returned reference.
   */
  MappedWeights map(OnnxModel part, String name, String label) {
    ExternalData.Externalized written =
        ExternalData.externalize(part, dir, name, MIN_MAPPED_BYTES, MappedWeights::mappable);
    return MappedWeights.map(env, written, label);
  }

  /** The folder (tests, diagnostics). */
  Path dir() {
    return dir;
  }

  @Override
  public void close() {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: a leftover folder under the cache root holds no state anyone reads
    }
  }
}

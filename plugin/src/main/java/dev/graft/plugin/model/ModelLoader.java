package dev.graft.plugin.model;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOptions;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads a model folder ({@code serving.properties}, an {@code .onnx} file, optional {@code
 * synset.txt}) or a bare {@code .onnx} file. Immutable.
 *
 * <p>Models are served by {@link SplitOrtModelRuntime} (split when it pays, base weights
 * memory-mapped from files under the weight cache), or by the plain {@link OrtModelRuntime} with
 * {@code option.graft.split=off}.
 */
public final class ModelLoader {
  public static final String SYNSET = "synset.txt";

  /** The weight cache when none is configured: {@code graft-weights} in the temporary folder. */
  public static final Path DEFAULT_WEIGHT_CACHE =
      Path.of(System.getProperty("java.io.tmpdir"), "graft-weights");

  private final Path weightCache;

  /** A loader whose models map their weights from files under {@link #DEFAULT_WEIGHT_CACHE}. */
  public ModelLoader() {
    this(DEFAULT_WEIGHT_CACHE);
  }

  /** A loader whose models map their weights from files under {@code weightCache}. */
  public ModelLoader(Path weightCache) {
    this.weightCache = weightCache;
  }

  /**
   * Loads and opens a model; the caller owns the result.
   *
   * @param path a folder or an {@code .onnx} file, already confined to the store
   * @throws GraftException {@code NOT_FOUND} when nothing is there, {@code INVALID_ARGUMENT} or
   *     {@code FAILED_PRECONDITION} when it cannot be served
   */
  public ServedModel load(String name, Path path, String url) {
    ModelSettings settings;
    Path onnx;
    List<String> labels = List.of();
    if (Files.isDirectory(path)) {
      settings = ModelSettings.readFolder(path);
      onnx = findOnnx(path, name);
      labels = readLabels(path.resolve(SYNSET));
    } else if (Files.isRegularFile(path)) {
      if (!path.getFileName().toString().endsWith(".onnx")) {
        throw GraftException.invalid("%s is neither a model folder nor an .onnx file", url);
      }
      settings = ModelSettings.defaults();
      onnx = path;
    } else {
      throw GraftException.notFound("model url %s: no such file or folder", url);
    }
    ModelFile file = ModelFile.read(onnx);
    ModelRuntime runtime =
        SplitOptions.of(settings).mode() == SplitOptions.Mode.OFF
            ? OrtModelRuntime.open(name, file, settings)
            : SplitOrtModelRuntime.open(name, file, settings, weightCache);
    try {
      ModelAdapters adapters = new ModelAdapters(name, file.model(), runtime);
      return new ServedModel(name, url, settings, file, runtime, adapters, labels);
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  /** The model name DJL derives from a url: the folder's or the file's name without extension. */
  public static String defaultName(Path path) {
    String file = path.getFileName() == null ? "model" : path.getFileName().toString();
    return file.endsWith(".onnx") ? file.substring(0, file.length() - ".onnx".length()) : file;
  }

  /**
   * {@code <folder>.onnx}, {@code <name>.onnx}, {@code model.onnx}, else the only {@code .onnx}.
   */
  static Path findOnnx(Path folder, String name) {
    for (String candidate : List.of(folder.getFileName() + ".onnx", name + ".onnx", "model.onnx")) {
      Path p = folder.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    List<Path> found;
    try (Stream<Path> files = Files.list(folder)) {
      found =
          files
              .filter(p -> p.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(p))
              .sorted()
              .toList();
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "cannot list model folder " + folder.getFileName() + ": " + e.getMessage(),
          e);
    }
    if (found.size() == 1) {
      return found.get(0);
    }
    if (found.isEmpty()) {
      throw GraftException.precondition("model folder %s has no .onnx file", folder.getFileName());
    }
    throw GraftException.invalid(
        "model folder %s has %d .onnx files; name the one to serve %s.onnx or model.onnx",
        folder.getFileName(), found.size(), folder.getFileName());
  }

  private static List<String> readLabels(Path synset) {
    if (!Files.isRegularFile(synset)) {
      return List.of();
    }
    try {
      List<String> lines =
          Files.readAllLines(synset, StandardCharsets.UTF_8).stream().map(String::strip).toList();
      int end = lines.size();
      while (end > 0 && lines.get(end - 1).isEmpty()) {
        end--; // a trailing blank line is not a class
      }
      return lines.subList(0, end);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "cannot read " + synset.getFileName() + ": " + e.getMessage(),
          e);
    }
  }
}

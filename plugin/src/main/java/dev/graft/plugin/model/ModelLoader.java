package dev.graft.plugin.model;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.head.HeadLoader;
import dev.graft.plugin.head.ModelHead;
import dev.graft.plugin.ofq.OfqModel;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.PyTorchEngine;
import dev.graft.plugin.runtime.SplitOptions;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.torchscript.TorchScriptModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Loads a model folder ({@code serving.properties}, an {@code .onnx} file, or a TorchScript {@code
 * .pt} file for {@code engine=PyTorch}, optional {@code synset.txt}, optional head declared by
 * {@code graft.head.*}) or a bare {@code .onnx} or {@code .pt} file. Stateless apart from the
 * PyTorch engine gate it is given.
 */
public final class ModelLoader {
  public static final String SYNSET = "synset.txt";
  static final String ONNX = ".onnx";
  static final String PT = ".pt";

  private final PyTorchEngine pyTorch;
  private final Path weightCache;

  /**
   * A loader whose PyTorch models use {@code engine} (see {@link PyTorchEngine#of}) and whose ONNX
   * models map their weights from files under {@code weightCache} (see {@link
   * GraftConfig#weightCache()}). ONNX models are served by {@link SplitOrtModelRuntime} (split when
   * it pays, base weights memory-mapped), or by the plain {@link OrtModelRuntime} with {@code
   * option.graft.split=off}.
   */
  public ModelLoader(PyTorchEngine engine, Path weightCache) {
    this.pyTorch = engine;
    this.weightCache = weightCache;
  }

  /** A loader whose PyTorch models use {@code engine}, with the default weight cache. */
  public ModelLoader(PyTorchEngine engine) {
    this(engine, GraftConfig.DEFAULT_WEIGHT_CACHE);
  }

  /** A loader with the default configuration (PyTorch's native cache under the working dir). */
  public ModelLoader() {
    this(PyTorchEngine.of(GraftConfig.of(Map.of(), Path.of(""))));
  }

  /**
   * Loads and opens a model; the caller owns the result.
   *
   * @param path a folder or an {@code .onnx} or {@code .pt} file, already confined to the store
   * @throws GraftException {@code NOT_FOUND} when nothing is there, {@code INVALID_ARGUMENT} or
   *     {@code FAILED_PRECONDITION} when it cannot be served (among others: {@code engine=PyTorch}
   *     without the PyTorch engine installed)
   */
  public ServedModel load(String name, Path path, String url) {
    ModelSettings settings;
    Path file;
    List<String> labels = List.of();
    if (Files.isDirectory(path)) {
      settings = ModelSettings.readFolder(path);
      file = findModelFile(path, name, settings.isPyTorch() ? PT : ONNX);
      labels = readLabels(path.resolve(SYNSET));
    } else if (Files.isRegularFile(path)) {
      String fileName = path.getFileName().toString();
      if (fileName.endsWith(ONNX)) {
        settings = ModelSettings.defaults();
      } else if (fileName.endsWith(PT)) {
        settings = ModelSettings.pyTorchDefaults();
      } else {
        throw GraftException.invalid("%s is neither a model folder nor an .onnx or .pt file", url);
      }
      file = path;
    } else {
      throw GraftException.notFound("model url %s: no such file or folder", url);
    }
    ServedModel model =
        settings.isPyTorch()
            ? loadTorchScript(name, url, settings, file, labels)
            : loadOnnx(name, url, settings, file, labels, ofqRuntime(path));
    return withHead(model, path);
  }

  /** The model with the head its folder declares (see {@link HeadLoader}), if any. */
  private static ServedModel withHead(ServedModel m, Path path) {
    try {
      Optional<ModelHead> head = HeadLoader.load(m.name(), path, m.runtime().outputs());
      return head.isEmpty()
          ? m
          : new ServedModel(
              m.name(),
              m.url(),
              m.settings(),
              m.runtime(),
              m.adapters(),
              m.labels(),
              head,
              m.ofq());
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  private ServedModel loadOnnx(
      String name,
      String url,
      ModelSettings settings,
      Path onnx,
      List<String> labels,
      String ofqRuntime) {
    ModelFile file = ModelFile.read(onnx);
    Optional<OfqModel> ofq = OfqModel.of(file, ofqRuntime);
    if (ofq.isPresent()) {
      file = ofq.get().served();
      settings = ofq.get().settings(settings);
    }
    // OFQ-packed models keep the plain runtime: their 2-bit layers are not what RWS patches
    ModelRuntime runtime =
        ofq.isPresent() || SplitOptions.of(settings).mode() == SplitOptions.Mode.OFF
            ? OrtModelRuntime.open(name, file, settings)
            : SplitOrtModelRuntime.open(name, file, settings, weightCache);
    try {
      ModelAdapters adapters = new ModelAdapters(name, ModelWeights.of(file.model()), runtime);
      return new ServedModel(name, url, settings, runtime, adapters, labels, Optional.empty(), ofq);
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  private ServedModel loadTorchScript(
      String name, String url, ModelSettings settings, Path pt, List<String> labels) {
    pyTorch.requireInstalled(name);
    ModelWeights base = ModelWeights.of(TorchScriptModel.load(pt));
    ModelRuntime runtime = pyTorch.open(name, pt, settings.io(), base);
    try {
      ModelAdapters adapters = new ModelAdapters(name, base, runtime);
      return new ServedModel(
          name, url, settings, runtime, adapters, labels, Optional.empty(), Optional.empty());
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  /** {@code option.ofq.runtime} of a model folder's {@code serving.properties}, or null. */
  private static String ofqRuntime(Path path) {
    Path props = path.resolve(ModelSettings.FILE_NAME);
    if (!Files.isDirectory(path) || !Files.isRegularFile(props)) {
      return null;
    }
    return GraftConfig.readProperties(props).get(OfqModel.RUNTIME_KEY);
  }

  /** The model name DJL derives from a url: the folder's or the file's name without extension. */
  public static String defaultName(Path path) {
    String file = path.getFileName() == null ? "model" : path.getFileName().toString();
    for (String ext : List.of(ONNX, PT)) {
      if (file.endsWith(ext)) {
        return file.substring(0, file.length() - ext.length());
      }
    }
    return file;
  }

  /**
   * {@code <folder><ext>}, {@code <name><ext>}, {@code model<ext>}, else the only file with that
   * extension.
   */
  static Path findModelFile(Path folder, String name, String ext) {
    for (String candidate : List.of(folder.getFileName() + ext, name + ext, "model" + ext)) {
      Path p = folder.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    List<Path> found;
    try (Stream<Path> files = Files.list(folder)) {
      found =
          files
              .filter(p -> p.getFileName().toString().endsWith(ext) && Files.isRegularFile(p))
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
      throw GraftException.precondition(
          "model folder %s has no %s file", folder.getFileName(), ext);
    }
    throw GraftException.invalid(
        "model folder %s has %d %s files; name the one to serve %s%s or model%s",
        folder.getFileName(), found.size(), ext, folder.getFileName(), ext, ext);
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

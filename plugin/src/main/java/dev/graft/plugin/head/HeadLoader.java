package dev.graft.plugin.head;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.runtime.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Loads the head a model folder declares (see {@link HeadSettings}). Stateless. */
public final class HeadLoader {
  private HeadLoader() {}

  /**
   * The head of a model, or empty when {@code path} is not a folder or declares none.
   *
   * @param path the model folder (or a bare model file, which has no head)
   * @param backbone the runtime's outputs, one of which must carry the features
   * @throws GraftException {@code INVALID_ARGUMENT} when the declaration, the initial head file or
   *     the backbone's feature output is unusable
   */
  public static Optional<ModelHead> load(String model, Path path, List<TensorSpec> backbone) {
    if (!Files.isDirectory(path)) {
      return Optional.empty();
    }
    Optional<HeadSettings> declared = HeadSettings.readFolder(path);
    if (declared.isEmpty()) {
      return Optional.empty();
    }
    HeadSettings settings = declared.get();
    ModelHead head = ModelHead.of(model, settings, readInitial(model, path, settings.init()));
    HeadInference.checkBackbone(head, backbone);
    return Optional.of(head);
  }

  private static ClassifierHead readInitial(String model, Path folder, String init) {
    Path file = folder.resolve(init);
    if (!Files.isRegularFile(file)) {
      throw GraftException.invalid(
          "model %s: graft.head.init=%s is not a file in the model folder", model, init);
    }
    try {
      return ClassifierHead.parse(Files.readAllBytes(file), "model " + model + ": " + init);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "model " + model + ": cannot read graft.head.init=" + init + ": " + e.getMessage(),
          e);
    }
  }
}

package dev.graft.plugin.runtime;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The bytes of a served {@code .onnx} file, read once, and the model parsed from them (its tensors
 * alias the same array, so the weights are held once). Every session of the model (base and
 * patched) is built from these same bytes, so a later change of the file on disk cannot make a
 * patched session disagree with the base.
 *
 * <p>Models whose weights are stored as external data are the exception: their sessions are built
 * from the file path so ONNX Runtime finds the data files next to it.
 *
 * @param path the file
 * @param bytes the file's contents; owned by this value, never modified
 * @param model the parsed model, aliasing {@code bytes}
 */
public record ModelFile(Path path, byte[] bytes, OnnxModel model) {

  /**
   * Reads and parses a model file.
   *
   * @throws GraftException {@code NOT_FOUND} for a missing file, {@code INVALID_ARGUMENT} for one
   *     that is not an ONNX model, {@code TOO_LARGE} beyond 2 GiB
   */
  public static ModelFile read(Path path) {
    byte[] bytes;
    try {
      long size = Files.size(path);
      if (size > Integer.MAX_VALUE - 8) {
        throw new GraftException(
            GraftException.Code.TOO_LARGE,
            path.getFileName() + ": " + size + " bytes is over the 2 GiB protobuf limit");
      }
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", path.getFileName());
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          path.getFileName() + ": cannot read (" + e.getMessage() + ")",
          e);
    }
    OnnxModel model =
        OnnxModel.parse(ByteBuffer.wrap(bytes), path.toAbsolutePath().getParent(), path.toString());
    return new ModelFile(path, bytes, model);
  }

  /** Whether some initializer lives in an external data file. */
  public boolean hasExternalData() {
    return model.proto().getGraph().getInitializerList().stream()
        .anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
  }
}

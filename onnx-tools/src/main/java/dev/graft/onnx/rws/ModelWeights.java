package dev.graft.onnx.rws;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.torchscript.TorchScriptModel;
import java.nio.file.Path;
import java.util.List;

/**
 * What RWS extraction and patching read from a model, whatever its file format: its weight layers,
 * its tensors by name, and its {@link Fingerprint}. Signatures are keyed by tensor name, so one
 * extracted from an ONNX export patches the TorchScript twin when the names and shapes agree.
 *
 * <p>Implementations are immutable and thread safe.
 */
public interface ModelWeights {

  /** Where the weights came from (a path or a description), for messages. */
  String source();

  /** The weight-bearing layers, in the model's order. */
  List<WeightLayer> layers();

  boolean hasTensor(String name);

  /**
   * A tensor's values as float32.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name, {@code INVALID_ARGUMENT} for a
   *     tensor that is not floating point
   */
  FloatTensor floatTensor(String name);

  /** The architecture (every tensor's name, shape and type, in order) and the weights' digest. */
  Fingerprint fingerprint();

  /** The output-channel axis of a layer's weight (for per-channel quantisation). */
  int outputAxis(WeightLayer layer);

  /** The weights of an ONNX model. */
  static ModelWeights of(OnnxModel model) {
    return new OnnxWeights(model);
  }

  /** The weights of a TorchScript module or state dict. */
  static ModelWeights of(TorchScriptModel model) {
    return new TorchScriptWeights(model);
  }

  /**
   * Reads a model file: a PyTorch zip archive ({@code .pt}) when the file starts like a zip, ONNX
   * otherwise.
   *
   * @throws GraftException as {@link OnnxModel#load} and {@link TorchScriptModel#load}
   */
  static ModelWeights load(Path file) {
    return TorchScriptModel.isArchive(file)
        ? of(TorchScriptModel.load(file))
        : of(OnnxModel.load(file));
  }
}

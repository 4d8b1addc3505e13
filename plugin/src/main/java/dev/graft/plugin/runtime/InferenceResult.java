package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import java.util.List;

/**
 * What one inference produced.
 *
 * @param weights the label of the weights that computed it (see {@link Weights#label()})
 * @param outputs the requested outputs, in the model's output order
 * @param labels the class names of the first output's last dimension when the weights that computed
 *     it define them (a Graft-owned head), else empty
 */
public record InferenceResult(String weights, List<FloatTensor> outputs, List<String> labels) {
  public InferenceResult {
    outputs = List.copyOf(outputs);
    labels = List.copyOf(labels);
  }

  /** A result whose weights do not name classes. */
  public InferenceResult(String weights, List<FloatTensor> outputs) {
    this(weights, outputs, List.of());
  }
}

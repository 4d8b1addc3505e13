package dev.graft.plugin.runtime;

import java.util.List;

/**
 * What one inference on typed tensors produced.
 *
 * @param weights the label of the weights that computed it (see {@link Weights#label()})
 * @param outputs the requested outputs, in the model's output order
 * @param labels the class names of the first output's last dimension when the weights that computed
 *     it define them (a Graft-owned head), else empty
 */
public record TensorResult(String weights, List<Tensor> outputs, List<String> labels) {
  public TensorResult {
    outputs = List.copyOf(outputs);
    labels = List.copyOf(labels);
  }

  /** A result whose weights do not name classes. */
  public TensorResult(String weights, List<Tensor> outputs) {
    this(weights, outputs, List.of());
  }
}

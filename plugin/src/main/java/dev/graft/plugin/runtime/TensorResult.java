package dev.graft.plugin.runtime;

import java.util.List;

/**
 * What one inference on typed tensors produced.
 *
 * @param weights the label of the weights that computed it (see {@link Weights#label()})
 * @param outputs the requested outputs, in the model's output order
 */
public record TensorResult(String weights, List<Tensor> outputs) {
  public TensorResult {
    outputs = List.copyOf(outputs);
  }
}

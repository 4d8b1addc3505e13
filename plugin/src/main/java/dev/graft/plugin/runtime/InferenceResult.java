package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import java.util.List;

/**
 * What one inference produced.
 *
 * @param weights the label of the weights that computed it (see {@link Weights#label()})
 * @param outputs the requested outputs, in the model's output order
 */
public record InferenceResult(String weights, List<FloatTensor> outputs) {
  public InferenceResult {
    outputs = List.copyOf(outputs);
  }
}

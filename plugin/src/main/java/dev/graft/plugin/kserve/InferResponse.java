package dev.graft.plugin.kserve;

import dev.graft.plugin.runtime.Tensor;
import java.util.List;

/**
 * The result of a KServe v2 inference.
 *
 * @param model the model name
 * @param version the version that answered
 * @param id the request's id; null when it had none
 * @param weights the label of the weights that computed it (the {@code graft_weights} parameter)
 * @param outputs the outputs, in the model's output order
 */
public record InferResponse(
    String model, String version, String id, String weights, List<Tensor> outputs) {
  /** The response parameter naming the weights. */
  public static final String WEIGHTS_PARAMETER = "graft_weights";

  public InferResponse {
    outputs = List.copyOf(outputs);
  }
}

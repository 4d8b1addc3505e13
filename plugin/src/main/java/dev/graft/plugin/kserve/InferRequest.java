package dev.graft.plugin.kserve;

import dev.graft.plugin.runtime.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A KServe v2 inference request, whatever protocol carried it.
 *
 * @param model the model name
 * @param version the requested version; empty for the server's choice
 * @param id the client's request id, echoed; null when none
 * @param parameters request parameters: {@link Boolean}, {@link Long}, {@link Double} or {@link
 *     String} values
 * @param inputs the input tensors
 * @param outputs the requested outputs; empty for all
 */
public record InferRequest(
    String model,
    String version,
    String id,
    Map<String, Object> parameters,
    List<Tensor> inputs,
    List<RequestedOutput> outputs) {

  public InferRequest {
    parameters = Map.copyOf(parameters);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /**
   * A requested output.
   *
   * @param parameters as for the request
   */
  public record RequestedOutput(String name, Map<String, Object> parameters) {
    public RequestedOutput {
      parameters = Map.copyOf(parameters);
    }
  }
}

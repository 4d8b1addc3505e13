package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A loaded model that runs inferences and whose weights can be replaced while it serves.
 *
 * <p>Implementations are thread safe: any number of threads may call {@link #infer} while one
 * thread calls {@link #swapWeights}. A swap is atomic for clients: an inference runs entirely on
 * the weights that were current when it started, and every inference that starts after {@code
 * swapWeights} returns sees the new weights. Callers serialise swaps of one model themselves.
 */
public interface ModelRuntime extends AutoCloseable {

  /** The model's name. */
  String name();

  /** The graph inputs, in graph order. */
  List<TensorSpec> inputs();

  /** The graph outputs, in graph order. */
  List<TensorSpec> outputs();

  /** The label of the weights new inferences run on. */
  String weightsLabel();

  /**
   * Runs one inference.
   *
   * @param inputs one float32 tensor per graph input, by name
   * @param outputs the outputs to return; empty for all
   * @throws dev.graft.onnx.GraftException {@code INVALID_ARGUMENT} for a missing, unknown or
   *     ill-shaped input or an unknown output; {@code UNAVAILABLE} once closed
   */
  InferenceResult infer(Map<String, FloatTensor> inputs, Set<String> outputs);

  /**
   * Makes {@code weights} current. Returns once they are live. On failure nothing changes.
   *
   * @throws dev.graft.onnx.GraftException {@code FAILED_PRECONDITION} for an override that does not
   *     name a float32 initializer of the model's shape; {@code UNAVAILABLE} once closed
   */
  void swapWeights(Weights weights);

  /**
   * Engine-specific facts for {@code GET /models/{m}} (optimisation, session layout), as values
   * gson can write. Empty by default.
   */
  default Map<String, Object> describe() {
    return Map.of();
  }

  /**
   * Stops serving. Inferences already running finish; their native resources are freed when the
   * last one ends. Idempotent.
   */
  @Override
  void close();
}

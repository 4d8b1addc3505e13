package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
   * Runs one inference on tensors of any KServe v2 data type, on the current weights or on a
   * variant. This default serves runtimes that only take float32: FP32 tensors through {@link
   * #infer}, current weights only.
   *
   * @param inputs one tensor per graph input, of the input's data type and fitting its shape
   * @param outputs the outputs to return; empty for all
   * @param variant weights from {@link #openVariant} of this runtime to run on instead of the
   *     current ones, or {@code null} for the current ones
   * @throws GraftException {@code INVALID_ARGUMENT} for a missing, unknown, ill-typed or ill-shaped
   *     input or an unknown output; {@code FAILED_PRECONDITION} for a data type the runtime cannot
   *     feed or a variant it did not open; {@code UNAVAILABLE} once closed (or the variant is)
   */
  default TensorResult run(List<Tensor> inputs, Set<String> outputs, WeightVariant variant) {
    if (variant != null) {
      throw GraftException.precondition("%s cannot run per-request weights", name());
    }
    Map<String, FloatTensor> floats = new LinkedHashMap<>();
    for (Tensor t : inputs) {
      if (t.type() != DataType.FP32) {
        throw GraftException.invalid("%s takes FP32 inputs; %s is %s", name(), t.name(), t.type());
      }
      floats.put(t.name(), t.toFloatTensor());
    }
    InferenceResult result = infer(floats, outputs);
    List<Tensor> out = new ArrayList<>();
    result.outputs().forEach(f -> out.add(Tensor.of(f)));
    return new TensorResult(result.weights(), out);
  }

  /**
   * Builds {@code weights} beside the current weights, for requests that choose their own adapters;
   * the current weights do not change. Takes as long as a {@link #swapWeights}.
   *
   * @return the variant, holding one reference that the caller owns (see {@link WeightVariant})
   * @throws GraftException as {@link #swapWeights}; {@code FAILED_PRECONDITION} when the runtime
   *     has no per-request weights (this default)
   */
  default WeightVariant openVariant(Weights weights) {
    throw GraftException.precondition(
        "%s cannot build per-request weights; attach adapters with the management API", name());
  }

  /**
   * The live weights with a reference taken, so that a caller can check their label and run on them
   * (as a variant) knowing they cannot change in between; closing gives the reference back.
   *
   * @return null when this runtime cannot pin its weights (this default): run with {@code null}
   * @throws GraftException {@code UNAVAILABLE} once closed
   */
  default WeightVariant acquireCurrent() {
    return null;
  }

  /**
   * Whether this runtime stores weights as byte deltas ({@link Weights#deltas}) and so gains from
   * being given them; false by default.
   */
  default boolean takesByteDeltas() {
    return false;
  }

  /**
   * An estimate of the bytes of weights this model holds in memory (all live weight states); 0 when
   * unknown.
   */
  default long weightBytes() {
    return 0;
  }

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

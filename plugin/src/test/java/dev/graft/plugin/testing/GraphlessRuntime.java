package dev.graft.plugin.testing;

import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.Weights;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A runtime without a graph or ONNX Runtime, for tests of what sits above a runtime: no inputs or
 * outputs, always on the base weights, nothing to close. Inference and swaps throw {@link
 * UnsupportedOperationException}; a subclass overrides what its test exercises.
 */
public abstract class GraphlessRuntime implements ModelRuntime {
  private final String name;

  protected GraphlessRuntime(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<TensorSpec> inputs() {
    return List.of();
  }

  @Override
  public List<TensorSpec> outputs() {
    return List.of();
  }

  @Override
  public String weightsLabel() {
    return Weights.BASE_LABEL;
  }

  @Override
  public InferenceResult infer(Map<String, FloatTensor> inputs, Set<String> outputs) {
    throw new UnsupportedOperationException(name + " runs no inferences");
  }

  @Override
  public void swapWeights(Weights weights) {
    throw new UnsupportedOperationException(name + " swaps no weights");
  }

  @Override
  public void close() {}
}

package dev.graft.plugin.state;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.Weights;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/** A runtime without ONNX Runtime that records the weight labels it was given. */
final class RecordingRuntime implements ModelRuntime {
  final List<String> swaps = new CopyOnWriteArrayList<>();
  volatile Runnable beforeSwap = () -> {};
  volatile boolean failSwaps;
  private volatile String label = Weights.BASE_LABEL;

  @Override
  public String name() {
    return "recording";
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
    return label;
  }

  @Override
  public InferenceResult infer(Map<String, FloatTensor> inputs, Set<String> outputs) {
    throw new UnsupportedOperationException("no inference in this runtime");
  }

  @Override
  public void swapWeights(Weights weights) {
    beforeSwap.run();
    if (failSwaps) {
      throw new GraftException(GraftException.Code.INTERNAL, "simulated session build failure");
    }
    swaps.add(weights.label());
    label = weights.label();
  }

  @Override
  public void close() {}
}

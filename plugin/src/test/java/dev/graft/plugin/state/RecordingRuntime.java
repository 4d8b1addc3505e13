package dev.graft.plugin.state;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.GraphlessRuntime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A runtime without ONNX Runtime that records the weight labels it was given. */
final class RecordingRuntime extends GraphlessRuntime {
  final List<String> swaps = new CopyOnWriteArrayList<>();
  volatile Runnable beforeSwap = () -> {};
  volatile boolean failSwaps;
  private volatile String label = Weights.BASE_LABEL;

  RecordingRuntime() {
    super("recording");
  }

  @Override
  public String weightsLabel() {
    return label;
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
}

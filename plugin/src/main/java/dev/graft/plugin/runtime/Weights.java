package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import java.util.List;

/**
 * One exact set of weights for a model: the base with some tensors replaced.
 *
 * @param label names the set for clients (the {@code X-Graft-Weights} header); equal labels must
 *     mean equal weights
 * @param overrides the replaced tensors; every other tensor is the base's. The tensors' arrays are
 *     owned by this value and must not be modified.
 */
public record Weights(String label, List<FloatTensor> overrides) {
  /** The label of the unpatched model. */
  public static final String BASE_LABEL = "base";

  public Weights {
    overrides = List.copyOf(overrides);
  }

  /** The base weights: nothing replaced. */
  public static Weights base() {
    return new Weights(BASE_LABEL, List.of());
  }
}

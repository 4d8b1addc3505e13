package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import java.util.List;
import java.util.Map;

/**
 * One exact set of weights for a model: the base with some tensors replaced.
 *
 * @param label names the set for clients (the {@code X-Graft-Weights} header); equal labels must
 *     mean equal weights
 * @param overrides the replaced tensors; every other tensor is the base's. The tensors' arrays are
 *     owned by this value and must not be modified.
 * @param deltas for some overrides, their change as byte deltas over the base ({@link ByteDeltas}:
 *     {@code base + table[index]} has exactly the override's bits), which a runtime storing compact
 *     states can take instead of searching for them; empty when unknown
 */
public record Weights(String label, List<FloatTensor> overrides, Map<String, ByteDeltas> deltas) {
  /** The label of the unpatched model. */
  public static final String BASE_LABEL = "base";

  public Weights {
    overrides = List.copyOf(overrides);
    deltas = Map.copyOf(deltas);
  }

  /** Weights without known byte deltas. */
  public Weights(String label, List<FloatTensor> overrides) {
    this(label, overrides, Map.of());
  }

  /** The base weights: nothing replaced. */
  public static Weights base() {
    return new Weights(BASE_LABEL, List.of());
  }
}

package dev.graft.onnx.ofq;

import dev.graft.onnx.build.GraphBuilder;

/**
 * Writes one packed format: the tensors of a weight, and the product {@code input · W_k} where
 * {@code W_k} holds {@code k·h} (the StatsQ levels without their {@code +h/2} offset, which {@link
 * PackedModelWriter} adds as a per-row correction).
 */
interface LayerWriter {
  /** The name of a weight's packed codes ({@link OfqManifest.Weight#codes()}). */
  static String codesName(QuantizedWeight w) {
    return w.tensor() + OfqManifest.MARK + "codes";
  }

  /** The name of a weight's half scales ({@link OfqManifest.Weight#scales()}). */
  static String scalesName(QuantizedWeight w) {
    return w.tensor() + OfqManifest.MARK + "scales";
  }

  /** The tensors of one packed weight. */
  record Tensors(String codes, String scales, String half, int blockSize) {}

  /**
   * Adds the weight's tensors to the graph, named {@code <tensor>#ofq.codes} and {@code
   * <tensor>#ofq.scales} (plus {@code <tensor>#ofq.half} when the scales are per block).
   */
  Tensors addWeight(GraphBuilder graph, QuantizedWeight weight);

  /**
   * Adds the nodes computing {@code input · W_k} for {@code use}'s input (plus Gemm's bias when
   * {@link #productIncludesBias()}) and returns the result's name. The node computing the product
   * takes the name of {@code use}'s node (which may be empty).
   *
   * @param prefix starts the names of the added values
   */
  String product(GraphBuilder graph, Tensors t, QuantizedWeight w, LinearUse use, String prefix);

  /** Whether {@link #product} already added a Gemm's bias. */
  boolean productIncludesBias();

  /** The default-domain opset the written model needs, or 0 to keep the model's. */
  long requiredOpset();
}

package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;

/**
 * A weight matrix held as StatsQ codes: {@code codes[r·in + c]} is the code of output row {@code
 * r}, input column {@code c} (the {@code [out, in]} layout of PyTorch's Linear), and {@code
 * scales[r]} is the row's StatsQ scale {@code s}. The arrays are owned by the record; callers must
 * not modify them.
 *
 * @param layer the layer name (the weight name without {@code .weight}/{@code .weight_q})
 * @param tensor the name of the float weight this replaces
 * @param outFeatures rows (N)
 * @param inFeatures columns (K)
 * @param requantizedRows how many rows were not on StatsQ levels and were re-quantised
 */
public record QuantizedWeight(
    String layer,
    String tensor,
    int outFeatures,
    int inFeatures,
    byte[] codes,
    float[] scales,
    int requantizedRows) {

  public QuantizedWeight {
    if ((long) outFeatures * inFeatures != codes.length || scales.length != outFeatures) {
      throw GraftException.invalid(
          "layer %s: %d codes and %d scales do not fit [%d, %d]",
          layer, codes.length, scales.length, outFeatures, inFeatures);
    }
  }

  /** The half scale {@code s/2} of a row: what a packed model stores. */
  public float half(int row) {
    return scales[row] * 0.5f;
  }

  /** The float32 weight of a row and column, as a packed model reproduces it. */
  public float weight(int row, int col) {
    return StatsQ.level(codes[row * inFeatures + col], half(row));
  }

  /** The float weights in the {@code [in, out]} layout of a MatMul's right operand. */
  public float[] inOut() {
    float[] w = new float[codes.length];
    for (int r = 0; r < outFeatures; r++) {
      float h = half(r);
      for (int c = 0; c < inFeatures; c++) {
        w[c * outFeatures + r] = StatsQ.level(codes[r * inFeatures + c], h);
      }
    }
    return w;
  }

  /** The float weights in the {@code [out, in]} layout (Gemm with {@code transB=1}). */
  public float[] outIn() {
    float[] w = new float[codes.length];
    for (int r = 0; r < outFeatures; r++) {
      float h = half(r);
      for (int c = 0; c < inFeatures; c++) {
        w[r * inFeatures + c] = StatsQ.level(codes[r * inFeatures + c], h);
      }
    }
    return w;
  }

  public long weightCount() {
    return codes.length;
  }
}

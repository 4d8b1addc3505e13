package dev.graft.onnx.ofq;

import java.util.Locale;

/** How a packed model stores its 2-bit weights. */
public enum PackFormat {
  /**
   * {@code com.microsoft.MatMulNBits} with {@code bits=2}: codes {@code k+2} in blocks along the
   * input features, one scale {@code s/2} per block, the default zero point 2.
   */
  NBITS,
  /**
   * Standard ONNX (opset 25, IR 13): an INT2 {@code [in, out]} tensor of codes {@code k} and a
   * per-output scale {@code s/2} feeding {@code DequantizeLinear}, then the original MatMul/Gemm.
   * ONNX Runtime fuses the pair into MatMulNBits.
   */
  DQ;

  /** The name used on the command line and in model metadata. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@link #id()}. */
  public static PackFormat of(String id) {
    return valueOf(id.toUpperCase(Locale.ROOT));
  }
}

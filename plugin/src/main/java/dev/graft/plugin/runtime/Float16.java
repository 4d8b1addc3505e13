package dev.graft.plugin.runtime;

import ai.onnxruntime.platform.Fp16Conversions;

/**
 * Conversions between float32 and the two 16-bit float formats (IEEE half, bfloat16), by ONNX
 * Runtime's own routines so that values mean what ONNX Runtime reads. Stateless.
 */
public final class Float16 {
  private Float16() {}

  public static short toFp16(float value) {
    return Fp16Conversions.floatToFp16(value);
  }

  public static float fromFp16(short bits) {
    return Fp16Conversions.fp16ToFloat(bits);
  }

  public static short toBf16(float value) {
    return Fp16Conversions.floatToBf16(value);
  }

  public static float fromBf16(short bits) {
    return Fp16Conversions.bf16ToFloat(bits);
  }
}

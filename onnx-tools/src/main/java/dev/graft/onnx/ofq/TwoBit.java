package dev.graft.onnx.ofq;

/**
 * Packing of 2-bit codes four to a byte, first element in the lowest bits: the layout of ONNX
 * INT2/UINT2 {@code raw_data} and of MatMulNBits' B input.
 */
final class TwoBit {
  private TwoBit() {}

  /**
   * ONNX INT2 {@code [in, out]} (a MatMul's right operand) from codes in {@code [out, in]} order;
   * each code is stored as its two's complement ({@code -2 → 0b10}, {@code -1 → 0b11}).
   */
  static byte[] int2InOut(QuantizedWeight w) {
    int rows = w.outFeatures();
    int cols = w.inFeatures();
    byte[] out = new byte[(rows * cols + 3) / 4];
    byte[] codes = w.codes();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int i = c * rows + r;
        out[i >> 2] |= (byte) ((codes[r * cols + c] & 3) << ((i & 3) << 1));
      }
    }
    return out;
  }

  /** Codes in {@code [out, in]} order from ONNX INT2 {@code [in, out]} bytes. */
  static byte[] codesFromInt2InOut(byte[] packed, int rows, int cols) {
    byte[] codes = new byte[rows * cols];
    for (int c = 0; c < cols; c++) {
      for (int r = 0; r < rows; r++) {
        int i = c * rows + r;
        int v = (packed[i >> 2] >> ((i & 3) << 1)) & 3;
        codes[r * cols + c] = (byte) (v >= 2 ? v - 4 : v);
      }
    }
    return codes;
  }

  /**
   * MatMulNBits' B: {@code [out, blocks, blockSize/4]} unsigned codes {@code k + 2} (the default
   * zero point of 2 gives back {@code k}); the padding past {@code in} holds 2, i.e. weight 0.
   */
  static byte[] nbits(QuantizedWeight w, int blockSize) {
    int rows = w.outFeatures();
    int cols = w.inFeatures();
    int padded = blocks(cols, blockSize) * blockSize;
    byte[] out = new byte[rows * padded / 4];
    byte[] codes = w.codes();
    for (int r = 0; r < rows; r++) {
      int base = r * padded;
      for (int c = 0; c < padded; c++) {
        int u = c < cols ? codes[r * cols + c] + 2 : 2;
        int i = base + c;
        out[i >> 2] |= (byte) (u << ((i & 3) << 1));
      }
    }
    return out;
  }

  /** Codes in {@code [out, in]} order from MatMulNBits' B. */
  static byte[] codesFromNbits(byte[] packed, int rows, int cols, int blockSize) {
    int padded = blocks(cols, blockSize) * blockSize;
    byte[] codes = new byte[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int i = r * padded + c;
        codes[r * cols + c] = (byte) (((packed[i >> 2] >> ((i & 3) << 1)) & 3) - 2);
      }
    }
    return codes;
  }

  static int blocks(int cols, int blockSize) {
    return (cols + blockSize - 1) / blockSize;
  }
}

package dev.graft.onnx.rws;

import dev.graft.onnx.GraftException;

/**
 * Linear N-level quantisation as in the RWS reference code: {@code q = round((x - min) / (max -
 * min) * (N - 1))}, {@code x' = q / (N - 1) * (max - min) + min}, with round-half-to-even like
 * PyTorch. Codes are packed LSB first in {@code ceil(log2 N)} bits each.
 */
public final class LinearQuantizer {
  private LinearQuantizer() {}

  /** Bits needed for {@code levels} codes. */
  public static int bitsFor(int levels) {
    if (levels < 2) {
      throw GraftException.invalid("levels must be at least 2, got %d", levels);
    }
    return 32 - Integer.numberOfLeadingZeros(levels - 1);
  }

  /**
   * Codes of {@code values[from, from+count)} for the given range, written to {@code
   * codes[from...]}.
   */
  static void encode(
      float[] values, int from, int count, float min, float max, int levels, int[] codes) {
    double range = (double) max - (double) min;
    for (int i = from; i < from + count; i++) {
      int q;
      if (range == 0) {
        q = 0;
      } else {
        double scaled = ((double) values[i] - min) / range * (levels - 1);
        q = (int) Math.rint(scaled);
        q = Math.max(0, Math.min(levels - 1, q));
      }
      codes[i] = q;
    }
  }

  /** The value a code stands for. */
  static float decode(int code, float min, float max, int levels) {
    double range = (double) max - (double) min;
    return (float) ((double) code / (levels - 1) * range + min);
  }

  static byte[] pack(int[] codes, int bits) {
    long totalBits = (long) codes.length * bits;
    byte[] out = new byte[(int) ((totalBits + 7) / 8)];
    long pos = 0;
    for (int c : codes) {
      for (int b = 0; b < bits; b++, pos++) {
        if (((c >>> b) & 1) != 0) {
          out[(int) (pos >>> 3)] |= (byte) (1 << (pos & 7));
        }
      }
    }
    return out;
  }

  static int[] unpack(byte[] packed, int count, int bits) {
    long needed = ((long) count * bits + 7) / 8;
    if (packed.length != needed) {
      throw GraftException.invalid(
          "packed codes hold %d bytes, %d codes of %d bits need %d",
          packed.length, count, bits, needed);
    }
    int[] codes = new int[count];
    long pos = 0;
    for (int i = 0; i < count; i++) {
      int c = 0;
      for (int b = 0; b < bits; b++, pos++) {
        if ((packed[(int) (pos >>> 3)] & (1 << (pos & 7))) != 0) {
          c |= 1 << b;
        }
      }
      codes[i] = c;
    }
    return codes;
  }
}

package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.rws.RwsSignature;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A delta with few distinct values, as those values and, per element, which one it takes: the part
 * of its {@link ByteDeltas} that does not depend on the scale it is applied with. Every {@link
 * #scaled} form shares this {@link #index} array, so a runtime that keeps an index's native tensor
 * (keyed by the array's identity) creates it once per signature rather than once per scale.
 *
 * @param levels the distinct values (by bit pattern, so {@code -0.0} and {@code 0.0} are two), at
 *     most 256, in order of first occurrence
 * @param index per element, the (unsigned) position of its value in {@code levels}; never modified
 */
public record DeltaLevels(float[] levels, byte[] index) {
  public DeltaLevels {
    if (levels.length > DeltaCodec.MAX_LEVELS) {
      throw new IllegalArgumentException("at most 256 levels, got " + levels.length);
    }
  }

  /** The levels of {@code delta}, or empty when it takes more than 256 distinct values. */
  public static Optional<DeltaLevels> of(float[] delta) {
    // distinct float bit patterns -> position, in a small open-addressing table
    int[] keys = new int[1024];
    short[] slots = new short[1024];
    Arrays.fill(slots, (short) -1);
    float[] levels = new float[DeltaCodec.MAX_LEVELS];
    byte[] index = new byte[delta.length];
    int count = 0;
    for (int i = 0; i < delta.length; i++) {
      int bits = Float.floatToRawIntBits(delta[i]);
      int h = (bits * 0x9E3779B1) >>> 22;
      while (slots[h] >= 0 && keys[h] != bits) {
        h = (h + 1) & 1023;
      }
      if (slots[h] < 0) {
        if (count == DeltaCodec.MAX_LEVELS) {
          return Optional.empty();
        }
        keys[h] = bits;
        slots[h] = (short) count;
        levels[count++] = delta[i];
      }
      index[i] = (byte) slots[h];
    }
    return Optional.of(new DeltaLevels(Arrays.copyOf(levels, count), index));
  }

  /**
   * The levels of each of {@code signature}'s deltas, by tensor name, or empty when one takes more
   * than 256 distinct values.
   */
  public static Optional<Map<String, DeltaLevels>> of(RwsSignature signature) {
    Map<String, DeltaLevels> out = new LinkedHashMap<>();
    for (FloatTensor d : signature.deltas()) {
      Optional<DeltaLevels> l = of(d.data());
      if (l.isEmpty()) {
        return Optional.empty();
      }
      out.put(d.name(), l.get());
    }
    return Optional.of(out);
  }

  /**
   * The change {@code RwsPatch} makes with this delta at scale {@code alpha}: it adds {@code
   * (float) (0.0 + alpha * d)} to a weight whose delta is {@code d}, so that is the table entry of
   * each level. The result shares this index.
   */
  public ByteDeltas scaled(double alpha) {
    float[] table = new float[levels.length];
    for (int k = 0; k < levels.length; k++) {
      table[k] = (float) (0.0 + alpha * levels[k]);
    }
    return new ByteDeltas(table, index);
  }

  /** {@link #scaled} for each tensor of {@code levels}, by the same names. */
  public static Map<String, ByteDeltas> scaled(Map<String, DeltaLevels> levels, double alpha) {
    Map<String, ByteDeltas> out = new LinkedHashMap<>();
    levels.forEach((name, l) -> out.put(name, l.scaled(alpha)));
    return out;
  }
}

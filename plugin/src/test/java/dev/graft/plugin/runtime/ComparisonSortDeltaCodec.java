package dev.graft.plugin.runtime;

import java.util.Arrays;
import java.util.Optional;

/**
 * The oracle for {@link DeltaCodec}: its encoder as it was before the radix sort (commit 56828b0),
 * kept verbatim but for names: intervals ordered by {@code Arrays.sort}, then a binary search over
 * all deltas per element. What did not change (each element's interval and sort key, {@link
 * DeltaCodec.Intervals}; the binary search) is {@link DeltaCodec}'s own. {@link DeltaCodecTest}
 * checks that the linear-time encoder returns the same table and index.
 */
final class ComparisonSortDeltaCodec {
  private ComparisonSortDeltaCodec() {}

  /**
   * Encodes {@code patched} over {@code base}, or returns empty when more than {@link
   * DeltaCodec#MAX_LEVELS} deltas would be needed or a value is not finite.
   */
  static Optional<ByteDeltas> encode(float[] base, float[] patched) {
    DeltaCodec.Intervals intervals = DeltaCodec.Intervals.of(base, patched);
    if (intervals == null) {
      return Optional.empty();
    }
    int n = base.length;
    float[] lo = intervals.lo();
    float[] hi = intervals.hi();
    long[] order = intervals.order();
    int changed = intervals.changed();
    boolean unchanged = intervals.unchanged();
    Arrays.sort(order, 0, changed);
    float[] points = new float[DeltaCodec.MAX_LEVELS];
    int count = 0;
    int limit = unchanged ? DeltaCodec.MAX_LEVELS - 1 : DeltaCodec.MAX_LEVELS;
    for (int k = 0; k < changed; k++) {
      int i = (int) order[k];
      if (count == 0 || lo[i] > points[count - 1]) {
        if (count == limit) {
          return Optional.empty();
        }
        points[count++] = hi[i];
      }
    }
    float[] table = new float[count + (unchanged ? 1 : 0)];
    System.arraycopy(points, 0, table, 0, count);
    if (unchanged) {
      table[count] = -0.0f;
    }
    byte[] index = new byte[n];
    for (int i = 0; i < n; i++) {
      float b = base[i];
      float p = patched[i];
      int at;
      if (Float.floatToRawIntBits(b) == Float.floatToRawIntBits(p)) {
        at = count;
      } else {
        at = DeltaCodec.firstAtLeast(points, count, lo[i]);
        if (at == count || points[at] > hi[i]) {
          return Optional.empty();
        }
      }
      if (Float.floatToRawIntBits(b + table[at]) != Float.floatToRawIntBits(p)) {
        return Optional.empty();
      }
      index[i] = (byte) at;
    }
    return Optional.of(new ByteDeltas(table, index));
  }
}

package dev.graft.plugin.runtime;

import java.util.Arrays;
import java.util.Optional;

/**
 * The oracle for {@link DeltaCodec}: its encoder as it was before the radix sort (commit 56828b0),
 * kept verbatim but for names: intervals ordered by {@code Arrays.sort}, then a binary search over
 * all deltas per element. {@link DeltaCodecTest} checks that the linear-time encoder returns the
 * same table and index.
 */
final class ComparisonSortDeltaCodec {
  private ComparisonSortDeltaCodec() {}

  /**
   * Encodes {@code patched} over {@code base}, or returns empty when more than {@link
   * DeltaCodec#MAX_LEVELS} deltas would be needed or a value is not finite.
   */
  static Optional<DeltaCodec.Encoded> encode(float[] base, float[] patched) {
    if (base.length != patched.length) {
      throw new IllegalArgumentException(
          "base has " + base.length + " elements, patched " + patched.length);
    }
    int n = base.length;
    float[] lo = new float[n];
    float[] hi = new float[n];
    long[] order = new long[n];
    int changed = 0;
    boolean unchanged = false;
    for (int i = 0; i < n; i++) {
      float b = base[i];
      float p = patched[i];
      if (!Float.isFinite(b) || !Float.isFinite(p)) {
        return Optional.empty();
      }
      if (Float.floatToRawIntBits(b) == Float.floatToRawIntBits(p)) {
        unchanged = true;
        continue;
      }
      interval(b, p, lo, hi, i);
      order[changed++] = ((long) sortable(hi[i]) << 32) | i;
    }
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
        at = firstAtLeast(points, count, lo[i]);
        if (at == count || points[at] > hi[i]) {
          return Optional.empty();
        }
      }
      if (Float.floatToRawIntBits(b + table[at]) != Float.floatToRawIntBits(p)) {
        return Optional.empty();
      }
      index[i] = (byte) at;
    }
    return Optional.of(new DeltaCodec.Encoded(table, index));
  }

  /**
   * The float32 deltas {@code d} with {@code b + d} rounding to {@code p}, as {@code [lo[i],
   * hi[i]]}: the interval of real sums that round to {@code p} (its ends only if {@code p} is even:
   * ties go to even), less {@code b}, computed in float64 (exact unless the exponents of {@code b}
   * and {@code p} are far apart; the caller checks every chosen delta). A sum that rounds to zero
   * must be exactly zero, so a zero {@code p} gets the single delta {@code p - b}, as does an
   * interval holding no float32.
   */
  private static void interval(float b, float p, float[] lo, float[] hi, int i) {
    float exact = p - b;
    if (p == 0) {
      lo[i] = exact;
      hi[i] = exact;
      return;
    }
    double below = ((double) p - Math.nextDown(p)) / 2;
    double above = ((double) Math.nextUp(p) - p) / 2;
    double diff = (double) p - b;
    double loReal = diff - below;
    double hiReal = diff + above;
    // a sum exactly halfway rounds to the even neighbour: the ends belong to p if p is even
    boolean even = (Float.floatToRawIntBits(p) & 1) == 0;
    float l = (float) loReal;
    if (l < loReal || (!even && l == loReal)) {
      l = Math.nextUp(l);
    }
    float h = (float) hiReal;
    if (h > hiReal || (!even && h == hiReal)) {
      h = Math.nextDown(h);
    }
    if (l > h) {
      l = exact;
      h = exact;
    }
    lo[i] = l;
    hi[i] = h;
  }

  /** Maps a float's order onto signed int order (-0.0 just below +0.0). */
  private static int sortable(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  private static int firstAtLeast(float[] sorted, int count, float value) {
    int a = 0;
    int b = count;
    while (a < b) {
      int m = (a + b) >>> 1;
      if (sorted[m] < value) {
        a = m + 1;
      } else {
        b = m;
      }
    }
    return a;
  }
}

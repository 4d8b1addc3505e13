package dev.graft.plugin.runtime;

import java.util.Arrays;
import java.util.Optional;

/**
 * Stores a patched float32 tensor as one byte per element over its base: a table of at most 256
 * float32 deltas and, per element, the index of the delta that gives the patched value, so that
 * {@code base[i] + table[index[i]]} (one IEEE float32 addition) has exactly the bits of {@code
 * patched[i]}. An RWS patch of one signature has this form by construction ({@code W + (float)(α ·
 * level)} over at most 256 quantisation levels), so the encoding is exact, not a new quantisation;
 * a tensor that needs more than 256 deltas is not encoded.
 *
 * <p>How: every element admits an interval of float32 deltas that round {@code base + delta} to its
 * patched value; the fewest deltas that hit every interval are found greedily (intervals by upper
 * end, each new delta at the upper end of the first interval not hit yet: optimal for interval
 * stabbing), and each element takes the first (smallest) delta in its interval. Unchanged elements
 * use {@code -0.0}, the delta that leaves every float32 as it is, sign of zero included. The result
 * is checked element by element before it is returned. Linear time: the intervals are ordered by a
 * radix sort ({@link #sortByUpperEnd}), and an element's delta is known when the greedy pass
 * reaches its interval (a binary search over the at most 256 deltas only when an earlier delta hits
 * the interval too, which an RWS patch's narrow intervals rarely allow).
 *
 * <p>Stateless and thread safe.
 */
final class DeltaCodec {
  /** Deltas an index byte can select. */
  static final int MAX_LEVELS = 256;

  /** Fewer keys than this are sorted by {@code Arrays.sort} (faster for them, measured). */
  private static final int RADIX_MIN_KEYS = 1024;

  /** From this many keys on, the radix sort takes 16-bit digits. */
  private static final int WIDE_RADIX_MIN_KEYS = 1 << 16;

  private DeltaCodec() {}

  /**
   * Encodes {@code patched} over {@code base}, or returns empty when more than {@link #MAX_LEVELS}
   * deltas would be needed or a value is not finite.
   */
  static Optional<ByteDeltas> encode(float[] base, float[] patched) {
    Intervals intervals = Intervals.of(base, patched);
    if (intervals == null) {
      return Optional.empty();
    }
    int n = base.length;
    float[] lo = intervals.lo();
    float[] hi = intervals.hi();
    long[] order = intervals.order();
    int changed = intervals.changed();
    boolean unchanged = intervals.unchanged();
    sortByUpperEnd(order, changed);
    float[] points = new float[MAX_LEVELS];
    int count = 0;
    int limit = unchanged ? MAX_LEVELS - 1 : MAX_LEVELS;
    byte[] index = new byte[n];
    for (int k = 0; k < changed; k++) {
      int i = (int) order[k];
      float l = lo[i];
      if (count == 0 || l > points[count - 1]) {
        if (count == limit) {
          return Optional.empty();
        }
        points[count++] = hi[i];
      }
      // the newest delta hits interval i (l <= it <= hi[i]: it is the upper end of an interval
      // sorted before i, or i's own); the element takes the first delta that does, as deltas only
      // grow, so search only when the delta before it reaches l too
      int at = count - 1;
      if (at > 0 && points[at - 1] >= l) {
        at = firstAtLeast(points, at, l);
      }
      index[i] = (byte) at;
    }
    float[] table = new float[count + (unchanged ? 1 : 0)];
    System.arraycopy(points, 0, table, 0, count);
    if (unchanged) {
      table[count] = -0.0f;
    }
    for (int i = 0; i < n; i++) {
      float b = base[i];
      int p = Float.floatToRawIntBits(patched[i]);
      if (Float.floatToRawIntBits(b) == p) {
        index[i] = (byte) count; // the no-change delta
      }
      if (Float.floatToRawIntBits(b + table[index[i] & 0xff]) != p) {
        return Optional.empty();
      }
    }
    return Optional.of(new ByteDeltas(table, index));
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

  /**
   * Each changed element's interval of deltas, and the elements in the order to sort.
   *
   * @param lo per element, the smallest delta that gives its patched value (changed ones only)
   * @param hi per element, the largest
   * @param order {@code order[0, changed)}: per changed element, {@link #sortable} of its upper end
   *     in the upper 32 bits and its position in the lower, in element order (not sorted yet)
   * @param changed how many elements changed
   * @param unchanged whether some element kept its value
   */
  record Intervals(float[] lo, float[] hi, long[] order, int changed, boolean unchanged) {
    /**
     * The intervals of {@code patched} over {@code base}, or {@code null} when a value is not
     * finite.
     */
    static Intervals of(float[] base, float[] patched) {
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
          return null;
        }
        if (Float.floatToRawIntBits(b) == Float.floatToRawIntBits(p)) {
          unchanged = true;
          continue;
        }
        interval(b, p, lo, hi, i);
        order[changed++] = ((long) sortable(hi[i]) << 32) | i;
      }
      return new Intervals(lo, hi, order, changed, unchanged);
    }
  }

  /**
   * Sorts {@code keys[0, count)} into the order {@code Arrays.sort} gives them, in linear time,
   * provided that their lower 32 bits increase with their position (as {@link #encode}'s element
   * numbers do): a stable LSD radix sort of the upper 32 bits (as signed ints), so that equal upper
   * halves keep their order, which is the order of their lower halves. Three passes of 11 bits, or
   * two of 16 for many keys (a pass over the keys costs more than the bigger counts then); a pass
   * whose digit is the same in every key is skipped. Fewer than 1024 keys go to {@code Arrays.sort}
   * itself.
   */
  static void sortByUpperEnd(long[] keys, int count) {
    if (count < RADIX_MIN_KEYS) {
      Arrays.sort(keys, 0, count);
    } else {
      radixSort(keys, count, count < WIDE_RADIX_MIN_KEYS ? 11 : 16);
    }
  }

  private static void radixSort(long[] keys, int count, int bits) {
    int passes = (Integer.SIZE + bits - 1) / bits;
    int buckets = 1 << bits;
    int[][] counts = new int[passes][buckets + 1];
    for (int k = 0; k < count; k++) {
      int u = upper(keys[k]);
      for (int pass = 0; pass < passes; pass++) {
        counts[pass][((u >>> (pass * bits)) & (buckets - 1)) + 1]++;
      }
    }
    long[] from = keys;
    long[] to = new long[count];
    for (int pass = 0; pass < passes; pass++) {
      int[] start = counts[pass];
      int shift = pass * bits;
      if (start[((upper(from[0]) >>> shift) & (buckets - 1)) + 1] == count) {
        continue; // one digit for all: this pass would not move anything
      }
      for (int d = 0; d < buckets; d++) {
        start[d + 1] += start[d];
      }
      for (int k = 0; k < count; k++) {
        long key = from[k];
        to[start[(upper(key) >>> shift) & (buckets - 1)]++] = key;
      }
      long[] swap = from;
      from = to;
      to = swap;
    }
    if (from != keys) {
      System.arraycopy(from, 0, keys, 0, count);
    }
  }

  /** The upper half of a key as an unsigned-ordered int (sign bit flipped). */
  private static int upper(long key) {
    return (int) (key >>> 32) ^ Integer.MIN_VALUE;
  }

  /** Maps a float's order onto signed int order (-0.0 just below +0.0). */
  private static int sortable(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  /** The first position of {@code sorted[0, count)} holding a value of at least {@code value}. */
  static int firstAtLeast(float[] sorted, int count, float value) {
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

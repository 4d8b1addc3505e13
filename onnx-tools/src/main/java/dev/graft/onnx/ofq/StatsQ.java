package dev.graft.onnx.ofq;

import java.util.Arrays;

/**
 * StatsQ 2-bit weights (OFQ): one scale {@code s} per output row and the four levels {@code
 * s·(k+0.5)/2}, {@code k ∈ {-2,-1,0,1}}.
 *
 * <p>Everything here works on the half scale {@code h = s/2}, because that is what a packed model
 * stores and what ONNX Runtime multiplies by: a packed layer computes {@code k·h} (exact) and adds
 * {@code h·0.5} (exact), so each weight is {@link #level(int, float) k·h + h·0.5} rounded once to
 * float32. A row is accepted only when every value equals that expression bit for bit, so packing
 * never changes a weight.
 */
public final class StatsQ {
  /** The smallest and largest code. */
  public static final int MIN_CODE = -2;

  public static final int MAX_CODE = 1;

  /** Rows holding more distinct values than this cannot be 2-bit. */
  public static final int LEVELS = 4;

  private StatsQ() {}

  /** The weight a packed layer reproduces for code {@code k} and half scale {@code h}. */
  public static float level(int k, float h) {
    return k * h + h * 0.5f;
  }

  /** What fitting one row found. */
  public enum Status {
    /** Every value is a StatsQ level of one scale; codes are filled. */
    FIT,
    /** The row holds five or more distinct values. */
    TOO_MANY_LEVELS,
    /** At most four distinct values, but no scale reproduces all of them exactly. */
    OFF_LEVELS,
    /** The row holds NaN or an infinity. */
    NOT_FINITE
  }

  /**
   * The outcome for one row.
   *
   * @param status whether the row fits
   * @param levels the number of distinct values in the row
   * @param half the half scale {@code h = s/2} when the row fits (0 for an all-zero row), else NaN
   */
  public record RowFit(Status status, int levels, float half) {
    public boolean fits() {
      return status == Status.FIT;
    }
  }

  /**
   * A view of one row of a weight matrix: element {@code i} is {@code data[offset + i·stride]}, so
   * a row of a {@code [out, in]} matrix has stride 1 and a column of an {@code [in, out]} one has
   * stride {@code out}.
   */
  public record Row(float[] data, int offset, int stride, int length) {
    float get(int i) {
      return data[offset + i * stride];
    }
  }

  /**
   * Finds the scale and codes of one row. When several scales reproduce the row exactly (only
   * possible when all its values have one magnitude), the one closest to StatsQ's {@code s =
   * 2·mean|w|} is taken; either reproduces the weights bit for bit.
   *
   * @param codes receives the row's codes at {@code codes[codesOffset ...]} when the row fits
   */
  public static RowFit fit(Row row, byte[] codes, int codesOffset) {
    float[] distinct = new float[LEVELS];
    int count = 0;
    double absSum = 0;
    for (int i = 0; i < row.length(); i++) {
      float v = row.get(i);
      if (!Float.isFinite(v)) {
        return new RowFit(Status.NOT_FINITE, 0, Float.NaN);
      }
      absSum += Math.abs(v);
      if (indexOf(distinct, count, v) < 0) {
        if (count == LEVELS) {
          return new RowFit(Status.TOO_MANY_LEVELS, countDistinct(row), Float.NaN);
        }
        distinct[count++] = v;
      }
    }
    float half = bestHalf(distinct, count, absSum / row.length());
    if (Float.isNaN(half)) {
      return new RowFit(Status.OFF_LEVELS, count, Float.NaN);
    }
    int[] codeOf = new int[count]; // an all-zero row (h = 0) gets code 0
    for (int d = 0; d < count && half > 0; d++) {
      codeOf[d] = codeOf(distinct[d], half);
    }
    for (int i = 0; i < row.length(); i++) {
      codes[codesOffset + i] = (byte) codeOf[indexOf(distinct, count, row.get(i))];
    }
    return new RowFit(Status.FIT, count, half);
  }

  /**
   * StatsQ applied post-training to one row: {@code s = 2·mean|w|}, {@code k = clamp(round(w/(s/2)
   * − 0.5), −2, 1)} with round half to even (as {@code torch.round}).
   *
   * @return the half scale {@code s/2}
   */
  public static float requantize(Row row, byte[] codes, int codesOffset) {
    double absSum = 0;
    for (int i = 0; i < row.length(); i++) {
      absSum += Math.abs(row.get(i));
    }
    float s = (float) (2 * absSum / row.length());
    float half = s / 2f;
    for (int i = 0; i < row.length(); i++) {
      int k = 0;
      if (half > 0) {
        k = (int) Math.rint(row.get(i) / half - 0.5f);
        k = Math.max(MIN_CODE, Math.min(MAX_CODE, k));
      }
      codes[codesOffset + i] = (byte) k;
    }
    return half;
  }

  /** The half scale reproducing every distinct value, or NaN when there is none. */
  private static float bestHalf(float[] distinct, int count, double meanAbs) {
    if (allZero(distinct, count)) {
      return 0f;
    }
    float best = Float.NaN;
    double bestDistance = Double.POSITIVE_INFINITY;
    for (int d = 0; d < count; d++) {
      for (int k = MIN_CODE; k <= MAX_CODE; k++) {
        double estimate = distinct[d] / (k + 0.5);
        if (!(estimate > 0)) {
          continue; // wrong sign for this code, or zero
        }
        // the exact half scale is within a few ulps of the estimate: try them all
        float h = Math.nextDown(Math.nextDown((float) estimate));
        for (int step = 0; step < 5; step++, h = Math.nextUp(h)) {
          if (h > 0 && Float.isFinite(h) && reproducesAll(distinct, count, h)) {
            double distance = Math.abs(2.0 * h - 2.0 * meanAbs);
            if (distance < bestDistance) {
              bestDistance = distance;
              best = h;
            }
          }
        }
      }
    }
    return best;
  }

  private static boolean reproducesAll(float[] distinct, int count, float half) {
    for (int d = 0; d < count; d++) {
      if (codeOf(distinct[d], half) == Integer.MIN_VALUE) {
        return false;
      }
    }
    return true;
  }

  /** The code whose level equals {@code v} exactly, or {@code Integer.MIN_VALUE}. */
  private static int codeOf(float v, float half) {
    for (int k = MIN_CODE; k <= MAX_CODE; k++) {
      if (level(k, half) == v) {
        return k;
      }
    }
    return Integer.MIN_VALUE;
  }

  private static boolean allZero(float[] distinct, int count) {
    for (int d = 0; d < count; d++) {
      if (distinct[d] != 0f) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(float[] values, int count, float v) {
    for (int i = 0; i < count; i++) {
      if (values[i] == v) {
        return i;
      }
    }
    return -1;
  }

  private static int countDistinct(Row row) {
    float[] copy = new float[row.length()];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = row.get(i) == 0f ? 0f : row.get(i); // -0 and +0 count once
    }
    Arrays.sort(copy);
    int n = copy.length == 0 ? 0 : 1;
    for (int i = 1; i < copy.length; i++) {
      if (copy[i] != copy[i - 1]) {
        n++;
      }
    }
    return n;
  }
}

package dev.graft.it;

import java.util.Arrays;

/**
 * A float32 input tensor, row-major. The array is owned by the record: do not modify it after
 * construction.
 */
public record Batch(float[] data, long[] shape) {
  public Batch {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
    }
  }

  /** The first dimension. */
  public int rows() {
    return (int) shape[0];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Batch b && Arrays.equals(data, b.data) && Arrays.equals(shape, b.shape);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(data) + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return "Batch" + Arrays.toString(shape);
  }
}

package dev.graft.onnx;

import java.util.Arrays;

/**
 * A named float32 tensor held on the heap. The arrays are owned by the record: callers must not
 * modify {@link #data()} after handing it over, and copy it before modifying a tensor they did not
 * create.
 */
public record FloatTensor(String name, long[] dims, float[] data) {

  public FloatTensor {
    long n = elementCount(dims);
    if (n != data.length) {
      throw GraftException.invalid(
          "tensor %s: shape %s holds %d elements but %d values were given",
          name, Arrays.toString(dims), n, data.length);
    }
  }

  /**
   * Number of elements of a shape.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a negative dimension or a product that
   *     overflows a long (shapes come from files and requests)
   */
  public static long elementCount(long[] dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw GraftException.invalid("negative dimension in shape %s", Arrays.toString(dims));
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw GraftException.invalid("shape %s has more than 2^63 elements", Arrays.toString(dims));
      }
    }
    return n;
  }

  /** A copy with the same name and shape and new values. */
  public FloatTensor withData(float[] values) {
    return new FloatTensor(name, dims, values);
  }

  public String shapeString() {
    return Arrays.toString(dims);
  }

  public boolean sameShape(FloatTensor other) {
    return Arrays.equals(dims, other.dims);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FloatTensor t
        && name.equals(t.name)
        && Arrays.equals(dims, t.dims)
        && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * name.hashCode() + Arrays.hashCode(dims)) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "FloatTensor[" + name + " " + shapeString() + "]";
  }
}

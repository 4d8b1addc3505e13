package dev.graft.it;

import dev.graft.onnx.eval.Idx;
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

  /**
   * Images {@code [from, from + n)} of an IDX test set as model input: float {@code [n, 1, height,
   * width]}, pixel/255.
   */
  public static Batch of(Idx.Images images, int from, int n) {
    if (from < 0 || n < 1 || from + n > images.count()) {
      throw new IndexOutOfBoundsException(
          "images " + from + ".." + (from + n) + " of " + images.count());
    }
    return new Batch(images.batch(from, n), shape(n, images));
  }

  /** Images {@code indices[from, from + n)} of an IDX test set as one input, in that order. */
  public static Batch select(Idx.Images images, int[] indices, int from, int n) {
    int size = images.height() * images.width();
    float[] data = new float[n * size];
    for (int k = 0; k < n; k++) {
      System.arraycopy(images.pixels(), indices[from + k] * size, data, k * size, size);
    }
    return new Batch(data, shape(n, images));
  }

  private static long[] shape(int n, Idx.Images images) {
    return new long[] {n, 1, images.height(), images.width()};
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

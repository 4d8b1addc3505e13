package dev.graft.plugin.runtime;

import java.util.Arrays;

/**
 * A model input or output as clients see it.
 *
 * @param name the graph's input or output name
 * @param datatype the KServe v2 data type name, e.g. {@code FP32}
 * @param shape the dimensions, {@code -1} for a dynamic one
 */
public record TensorSpec(String name, String datatype, long[] shape) {

  public TensorSpec {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Whether a concrete shape fits: same rank, and every fixed dimension equal. */
  public boolean accepts(long[] concrete) {
    if (concrete.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0 && shape[i] != concrete[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && datatype.equals(t.datatype)
        && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + datatype.hashCode()) * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + datatype + Arrays.toString(shape);
  }
}

package dev.graft.plugin.runtime;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named tensor of any KServe v2 data type, its elements row-major in the protocol's raw form:
 * little-endian without padding, BOOL one byte (0 or 1) per element, and every BYTES element a
 * 4-byte little-endian length followed by that many bytes. The same form is the binary tensor
 * extension of REST and the {@code raw_*_contents} of gRPC, so those pass through unconverted.
 *
 * <p>Immutable: the data is a read-only view, and {@link #data()} returns a fresh view each call.
 *
 * @param name the input or output name
 * @param type the data type
 * @param shape the dimensions, none negative
 * @param data the raw elements; its size matches the shape (checked)
 */
public record Tensor(String name, DataType type, long[] shape, ByteBuffer data) {

  /**
   * @throws GraftException {@code INVALID_ARGUMENT} when the data does not hold exactly the
   *     elements of the shape
   */
  public Tensor {
    shape = shape.clone();
    long count = elementCountOf(name, shape);
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (type.fixedSize()) {
      if (count > Integer.MAX_VALUE / type.size() || data.remaining() != count * type.size()) {
        throw GraftException.invalid(
            "%s: shape %s of %s needs %d bytes, got %d",
            name, Arrays.toString(shape), type, count * type.size(), data.remaining());
      }
    } else {
      long found = countStrings(data);
      if (found != count) {
        throw GraftException.invalid(
            "%s: shape %s holds %d elements but the BYTES data has %d",
            name, Arrays.toString(shape), count, found);
      }
    }
  }

  /**
   * The number of elements of a shape.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a negative dimension or an overflow
   */
  public static long elementCountOf(String name, long[] shape) {
    try {
      return FloatTensor.elementCount(shape);
    } catch (GraftException e) {
      throw GraftException.invalid("%s: %s", name, e.getMessage());
    }
  }

  /** An FP32 tensor with the values of {@code t}. */
  public static Tensor of(FloatTensor t) {
    ByteBuffer bytes =
        ByteBuffer.allocate(t.data().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(t.data());
    return new Tensor(t.name(), DataType.FP32, t.dims(), bytes);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** A new little-endian view of the raw elements, positioned at the start. */
  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Size of the raw data in bytes. */
  public int byteSize() {
    return data.remaining();
  }

  /** The number of elements. */
  public long elementCount() {
    return FloatTensor.elementCount(shape);
  }

  /** A copy of the raw data. */
  public byte[] bytes() {
    byte[] out = new byte[data.remaining()];
    data().get(out);
    return out;
  }

  /**
   * The values of an FP32 tensor.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} for other data types
   */
  public FloatTensor toFloatTensor() {
    if (type != DataType.FP32) {
      throw GraftException.precondition("%s is %s, not FP32", name, type);
    }
    float[] values = new float[data.remaining() / Float.BYTES];
    data().asFloatBuffer().get(values);
    return new FloatTensor(name, shape, values);
  }

  /** The number of length-prefixed elements in BYTES data, or -1 when the framing is broken. */
  private static long countStrings(ByteBuffer data) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long n = 0;
    while (b.hasRemaining()) {
      if (b.remaining() < Integer.BYTES) {
        return -1;
      }
      long length = Integer.toUnsignedLong(b.getInt());
      if (length > b.remaining()) {
        return -1;
      }
      b.position(b.position() + (int) length);
      n++;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && name.equals(t.name)
        && type == t.type
        && Arrays.equals(shape, t.shape)
        && data.equals(t.data);
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + type.hashCode()) * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return "Tensor[" + name + " " + type + Arrays.toString(shape) + "]";
  }
}

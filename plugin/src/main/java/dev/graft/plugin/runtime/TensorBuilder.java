package dev.graft.plugin.runtime;

import dev.graft.onnx.GraftException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Builds the raw data of a {@link Tensor} element by element, converting and range-checking each
 * value for the data type: integers must fit (UINT64 takes the unsigned 64-bit pattern), floats are
 * narrowed to FP16/BF16 with ONNX Runtime's conversion. Not thread safe; one per tensor.
 */
public final class TensorBuilder {
  private final String name;
  private final DataType type;
  private byte[] bytes;
  private int size;
  private long count;

  /**
   * @param name the tensor, for error messages
   * @param expectedElements a capacity hint
   */
  public TensorBuilder(String name, DataType type, long expectedElements) {
    this.name = name;
    this.type = type;
    long hint = type.fixedSize() ? expectedElements * type.size() : expectedElements * 8;
    this.bytes = new byte[(int) Math.max(16, Math.min(hint, 1 << 20))];
  }

  public DataType type() {
    return type;
  }

  /** Elements added so far. */
  public long count() {
    return count;
  }

  /** Adds a BOOL element. */
  public void addBool(boolean value) {
    require(DataType.BOOL, "a boolean");
    ensure(1);
    bytes[size++] = (byte) (value ? 1 : 0);
    count++;
  }

  /**
   * Adds an integer element; for UINT64 {@code value} is the unsigned 64-bit pattern.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when the type is not an integer type or the
   *     value does not fit it
   */
  public void addLong(long value) {
    switch (type) {
      case INT8 -> putInteger(value, Byte.MIN_VALUE, Byte.MAX_VALUE);
      case INT16 -> putInteger(value, Short.MIN_VALUE, Short.MAX_VALUE);
      case INT32 -> putInteger(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
      case INT64, UINT64 -> putInteger(value, Long.MIN_VALUE, Long.MAX_VALUE);
      case UINT8 -> putInteger(value, 0, 0xFF);
      case UINT16 -> putInteger(value, 0, 0xFFFF);
      case UINT32 -> putInteger(value, 0, 0xFFFF_FFFFL);
      default -> throw mismatch("an integer");
    }
  }

  /** Adds an FP32, FP16 or BF16 element (FP64 too, widened). */
  public void addFloat(float value) {
    switch (type) {
      case FP32 -> putLittleEndian(Float.floatToRawIntBits(value), 4);
      case FP16 -> putLittleEndian(Float16.toFp16(value), 2);
      case BF16 -> putLittleEndian(Float16.toBf16(value), 2);
      case FP64 -> addDouble(value);
      default -> throw mismatch("a floating point number");
    }
  }

  /** Adds an FP64 element. */
  public void addDouble(double value) {
    require(DataType.FP64, "a double");
    putLittleEndian(Double.doubleToRawLongBits(value), 8);
  }

  /** Adds a BYTES element. */
  public void addBytes(byte[] value) {
    require(DataType.BYTES, "a byte string");
    ensure(4 + value.length);
    putRaw(value.length, 4);
    System.arraycopy(value, 0, bytes, size, value.length);
    size += value.length;
    count++;
  }

  /**
   * The tensor of the elements added.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when their number does not match the shape
   */
  public Tensor build(long[] shape) {
    return new Tensor(name, type, shape, ByteBuffer.wrap(bytes, 0, size));
  }

  private void putInteger(long value, long min, long max) {
    if (value < min || value > max) {
      throw GraftException.invalid(
          "%s: element %d is %d, outside the range of %s", name, count, value, type);
    }
    putLittleEndian(value, type.size());
  }

  private void putLittleEndian(long value, int width) {
    ensure(width);
    putRaw(value, width);
    count++;
  }

  private void putRaw(long value, int width) {
    for (int i = 0; i < width; i++) {
      bytes[size++] = (byte) (value >>> (8 * i));
    }
  }

  private void require(DataType expected, String what) {
    if (type != expected) {
      throw mismatch(what);
    }
  }

  private GraftException mismatch(String what) {
    return GraftException.invalid("%s is %s: element %d cannot be %s", name, type, count, what);
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      long grown = Math.max((long) bytes.length * 2, (long) size + more);
      if (grown > Integer.MAX_VALUE - 8) {
        throw GraftException.invalid("%s: tensor data over 2 GiB", name);
      }
      bytes = Arrays.copyOf(bytes, (int) grown);
    }
  }
}

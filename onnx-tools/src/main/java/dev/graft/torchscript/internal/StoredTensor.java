package dev.graft.torchscript.internal;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor of a PyTorch archive as {@code torch._utils._rebuild_tensor_v2} describes it: a view
 * (offset, sizes, strides, in elements) of a storage.
 *
 * @param storage the storage it views
 * @param offset the first element's index in the storage
 * @param dims the sizes
 * @param strides the strides, in elements
 */
public record StoredTensor(Storage storage, long offset, long[] dims, long[] strides) {

  /**
   * A storage record of the archive ({@code data/<key>}) and its element type.
   *
   * @param key the record name under {@code data/}
   * @param dataType the ONNX data type of its elements
   * @param bytes the record's bytes (little endian), owned by this value and never modified
   */
  public record Storage(String key, int dataType, byte[] bytes) {
    /** Elements the record holds. */
    public long elements() {
      return bytes.length / TensorData.elementSize(dataType);
    }
  }

  /** Checks the view against its storage; {@code what} names the tensor in messages. */
  public void validate(String what) {
    if (dims.length != strides.length) {
      throw GraftException.invalid(
          "%s: %d sizes but %d strides", what, dims.length, strides.length);
    }
    long count = FloatTensor.elementCount(dims);
    if (count == 0) {
      return;
    }
    long last = offset;
    for (int i = 0; i < dims.length; i++) {
      if (strides[i] < 0) {
        throw GraftException.invalid("%s: negative stride %d", what, strides[i]);
      }
      last = Math.addExact(last, Math.multiplyExact(dims[i] - 1, strides[i]));
    }
    if (offset < 0 || last >= storage.elements()) {
      throw GraftException.invalid(
          "%s: view [offset %d, sizes %s, strides %s] reaches element %d of a %d-element storage",
          what, offset, Arrays.toString(dims), Arrays.toString(strides), last, storage.elements());
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new GraftException(
          GraftException.Code.TOO_LARGE, what + ": " + count + " elements is too many");
    }
  }

  /** Whether the elements follow each other in row-major order in the storage. */
  public boolean contiguous() {
    long expected = 1;
    for (int i = dims.length - 1; i >= 0; i--) {
      if (dims[i] != 1 && strides[i] != expected) {
        return false;
      }
      expected *= dims[i];
    }
    return true;
  }

  /** The values in row-major order, converted to float32; the type must be floating point. */
  public float[] toFloats() {
    int n = (int) FloatTensor.elementCount(dims);
    float[] out = new float[n];
    ByteBuffer buf = ByteBuffer.wrap(storage.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    if (storage.dataType() == TensorProto.DataType.FLOAT_VALUE && contiguous()) {
      buf.position((int) offset * Float.BYTES);
      buf.asFloatBuffer().get(out);
      return out;
    }
    int[] index = new int[dims.length];
    for (int i = 0; i < n; i++) {
      long element = offset;
      for (int d = 0; d < dims.length; d++) {
        element += index[d] * strides[d];
      }
      out[i] = read(buf, (int) element);
      for (int d = dims.length - 1; d >= 0; d--) {
        if (++index[d] < dims[d]) {
          break;
        }
        index[d] = 0;
      }
    }
    return out;
  }

  private float read(ByteBuffer buf, int element) {
    return switch (storage.dataType()) {
      case TensorProto.DataType.FLOAT_VALUE -> buf.getFloat(element * 4);
      case TensorProto.DataType.DOUBLE_VALUE -> (float) buf.getDouble(element * 8);
      case TensorProto.DataType.FLOAT16_VALUE -> TensorData.halfToFloat(buf.getShort(element * 2));
      case TensorProto.DataType.BFLOAT16_VALUE ->
          Float.intBitsToFloat((buf.getShort(element * 2) & 0xffff) << 16);
      default ->
          throw GraftException.invalid(
              "storage %s holds %s, not floating point",
              storage.key(), TensorData.typeName(storage.dataType()));
    };
  }

  @Override
  public String toString() {
    return "StoredTensor[storage " + storage.key() + ", " + Arrays.toString(dims) + "]";
  }
}

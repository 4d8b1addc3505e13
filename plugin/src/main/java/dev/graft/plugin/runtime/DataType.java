package dev.graft.plugin.runtime;

import dev.graft.onnx.GraftException;
import java.util.Arrays;

/** The KServe v2 (Open Inference Protocol) tensor data types, with their element sizes. */
public enum DataType {
  BOOL(1),
  UINT8(1),
  UINT16(2),
  UINT32(4),
  UINT64(8),
  INT8(1),
  INT16(2),
  INT32(4),
  INT64(8),
  FP16(2),
  FP32(4),
  FP64(8),
  /** bfloat16: Triton's addition to the protocol; ONNX Runtime has it too. */
  BF16(2),
  /** Byte strings of any length; ONNX string tensors. */
  BYTES(0);

  private final int size;

  DataType(int size) {
    this.size = size;
  }

  /** Bytes per element in the raw form; 0 for {@link #BYTES}, whose elements vary. */
  public int size() {
    return size;
  }

  /** Whether elements have a fixed size. */
  public boolean fixedSize() {
    return size > 0;
  }

  /**
   * The data type of a protocol name, e.g. {@code FP32}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a name the protocol does not define
   */
  public static DataType parse(String name) {
    for (DataType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw GraftException.invalid(
        "unknown datatype '%s' (the protocol's are %s)", name, Arrays.toString(values()));
  }
}

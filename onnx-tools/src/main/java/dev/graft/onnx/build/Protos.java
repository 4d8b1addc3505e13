package dev.graft.onnx.build;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.TensorShapeProto;
import dev.graft.onnx.proto.TypeProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Static factories for the ONNX protos that graph writers need: attributes, tensors, value infos.
 */
public final class Protos {
  private Protos() {}

  public static AttributeProto attr(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  public static AttributeProto attr(String name, float value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.FLOAT)
        .setF(value)
        .build();
  }

  public static AttributeProto attr(String name, String value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(value))
        .build();
  }

  public static AttributeProto attr(String name, TensorProto value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(value)
        .build();
  }

  public static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  /** A float32 tensor stored as little-endian {@code raw_data}. */
  public static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer buf =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    // the buffer is ours and never written again: wrap it instead of copying (large weights)
    return t.setRawData(UnsafeByteOperations.unsafeWrap(buf.array())).build();
  }

  /** A float32 scalar (rank 0). */
  public static TensorProto scalar(String name, float value) {
    return floats(name, new long[0], new float[] {value});
  }

  /** An int64 tensor stored as little-endian {@code raw_data}. */
  public static TensorProto int64s(String name, long[] dims, long... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.asLongBuffer().put(values);
    return raw(name, TensorProto.DataType.INT64_VALUE, dims, buf.array());
  }

  /** A 1-D int64 tensor. */
  public static TensorProto int64s(String name, long... values) {
    return int64s(name, new long[] {values.length}, values);
  }

  /** A tensor whose bytes are already laid out as ONNX {@code raw_data} for its type. */
  public static TensorProto raw(String name, int dataType, long[] dims, byte[] raw) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(dataType);
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(raw)).build();
  }

  /**
   * A tensor-typed value info. Each dimension is a {@link Number} (fixed size) or a {@link String}
   * (symbolic, e.g. the batch dimension).
   */
  public static ValueInfoProto tensorInfo(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof Number n) {
        dim.setDimValue(n.longValue());
      } else {
        dim.setDimParam(String.valueOf(d));
      }
      shape.addDim(dim);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
        .build();
  }
}

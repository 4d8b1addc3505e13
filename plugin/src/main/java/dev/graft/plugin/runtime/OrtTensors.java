package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.graft.onnx.GraftException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between {@link Tensor}s (the protocol's raw little-endian form) and ONNX Runtime
 * tensors. Stateless.
 *
 * <p>ONNX Runtime's Java API has no way to create UINT16, UINT32 or UINT64 tensors, so inputs of
 * those types are refused; outputs of every numeric type are read from their raw bytes. BYTES map
 * to ONNX string tensors, which hold text: input elements must be valid UTF-8.
 */
final class OrtTensors {
  private OrtTensors() {}

  /** The data type of an ONNX Runtime element type, or null for one the protocol lacks. */
  static DataType dataType(TensorInfo.OnnxTensorType type) {
    return switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
      default -> null;
    };
  }

  /** Whether ONNX Runtime's Java API can create an input tensor of this type. */
  static boolean canFeed(DataType type) {
    return type != DataType.UINT16 && type != DataType.UINT32 && type != DataType.UINT64;
  }

  /**
   * A new ONNX Runtime tensor holding a copy of {@code t}; the caller owns and closes it.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} for a type ONNX Runtime cannot feed, {@code
   *     INVALID_ARGUMENT} for BYTES that are not UTF-8
   */
  static OnnxTensor create(OrtEnvironment env, Tensor t) throws OrtException {
    ByteBuffer data = t.data();
    long[] shape = t.shape();
    return switch (t.type()) {
      case FP32 -> OnnxTensor.createTensor(env, data.asFloatBuffer(), shape);
      case FP64 -> OnnxTensor.createTensor(env, data.asDoubleBuffer(), shape);
      case INT64 -> OnnxTensor.createTensor(env, data.asLongBuffer(), shape);
      case INT32 -> OnnxTensor.createTensor(env, data.asIntBuffer(), shape);
      case INT16 -> OnnxTensor.createTensor(env, data.asShortBuffer(), shape, OnnxJavaType.INT16);
      case FP16 -> OnnxTensor.createTensor(env, data.asShortBuffer(), shape, OnnxJavaType.FLOAT16);
      case BF16 -> OnnxTensor.createTensor(env, data.asShortBuffer(), shape, OnnxJavaType.BFLOAT16);
      case INT8 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.INT8);
      case UINT8 -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.UINT8);
      case BOOL -> OnnxTensor.createTensor(env, data, shape, OnnxJavaType.BOOL);
      case BYTES -> OnnxTensor.createTensor(env, strings(t), shape);
      case UINT16, UINT32, UINT64 ->
          throw GraftException.precondition(
              "input %s is %s: ONNX Runtime's Java API cannot create %s tensors",
              t.name(), t.type(), t.type());
    };
  }

  /** Reads an output value into a tensor. */
  static Tensor read(String name, OnnxValue value) throws OrtException {
    DataType type = value instanceof OnnxTensor tensor ? dataType(tensor.getInfo().onnxType) : null;
    if (type == null) {
      throw GraftException.precondition(
          "output %s is %s, which the protocol cannot carry", name, value.getInfo());
    }
    OnnxTensor tensor = (OnnxTensor) value;
    long[] shape = tensor.getInfo().getShape();
    if (type == DataType.BYTES) {
      return new Tensor(name, type, shape, encodeStrings(tensor.getValue()));
    }
    ByteBuffer raw = tensor.getByteBuffer().order(ByteOrder.nativeOrder());
    return new Tensor(name, type, shape, littleEndian(raw, type.size()));
  }

  /** The raw bytes in little-endian order (a no-op on little-endian machines). */
  private static ByteBuffer littleEndian(ByteBuffer nativeOrder, int size) {
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || size == 1) {
      return nativeOrder;
    }
    ByteBuffer out = ByteBuffer.allocate(nativeOrder.remaining());
    byte[] element = new byte[size];
    while (nativeOrder.hasRemaining()) {
      nativeOrder.get(element);
      for (int i = size - 1; i >= 0; i--) {
        out.put(element[i]);
      }
    }
    return out.flip();
  }

  private static String[] strings(Tensor t) {
    ByteBuffer b = t.data();
    CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    List<String> out = new ArrayList<>();
    while (b.hasRemaining()) {
      int length = b.getInt();
      ByteBuffer element = b.slice().limit(length);
      b.position(b.position() + length);
      try {
        CharBuffer chars = utf8.decode(element);
        out.add(chars.toString());
      } catch (CharacterCodingException e) {
        throw GraftException.invalid(
            "input %s: element %d is not UTF-8 (ONNX string tensors hold text)",
            t.name(), out.size());
      }
    }
    return out.toArray(new String[0]);
  }

  /** Flattens ONNX Runtime's nested String arrays into the length-prefixed form. */
  private static ByteBuffer encodeStrings(Object nested) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    appendStrings(nested, out);
    return ByteBuffer.wrap(out.toByteArray());
  }

  private static void appendStrings(Object value, ByteArrayOutputStream out) {
    if (value instanceof String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).array());
      out.writeBytes(bytes);
    } else if (value instanceof Object[] array) {
      for (Object element : array) {
        appendStrings(element, out);
      }
    } else {
      throw new IllegalStateException("unexpected string tensor element " + value);
    }
  }
}

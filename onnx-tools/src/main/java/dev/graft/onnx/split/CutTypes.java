package dev.graft.onnx.split;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.TensorShapeProto;
import dev.graft.onnx.proto.TypeProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.HashMap;
import java.util.Map;

/**
 * Types and shapes of cut tensors the model does not declare, from ONNX Runtime's own shape
 * inference: a session of the stem (whose cut outputs are declared by name only) reports the
 * inferred type of each output. Symbolic dimensions keep their names; unnamed ones stay unknown.
 */
final class CutTypes {
  private CutTypes() {}

  /**
   * Infers the types of every output of {@code stem}.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when ONNX Runtime cannot load the stem or an
   *     output is not a tensor
   */
  static Map<String, ValueInfoProto> infer(ModelProto stem, String source) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, ValueInfoProto> types = new HashMap<>();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // shape inference runs at load; optimising the graph would only cost time
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      try (OrtSession session = env.createSession(stem.toByteArray(), options)) {
        for (NodeInfo out : session.getOutputInfo().values()) {
          if (!(out.getInfo() instanceof TensorInfo t)) {
            throw GraftException.invalid(
                "%s: cut tensor %s is not a tensor (%s)", source, out.getName(), out.getInfo());
          }
          types.put(out.getName(), valueInfo(out.getName(), t));
        }
      }
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": ONNX Runtime cannot infer the cut tensors' types: " + e.getMessage(),
          e);
    }
    return types;
  }

  /** ONNX Runtime's Java enum is not numbered like the ONNX one; its names match after a prefix. */
  private static int elemType(TensorInfo.OnnxTensorType type) {
    String name = type.name().substring("ONNX_TENSOR_ELEMENT_DATA_TYPE_".length());
    try {
      return TensorProto.DataType.valueOf(name).getNumber();
    } catch (IllegalArgumentException e) {
      throw GraftException.invalid("cut tensor type %s has no ONNX data type", type);
    }
  }

  private static ValueInfoProto valueInfo(String name, TensorInfo t) {
    long[] shape = t.getShape();
    String[] names = t.getDimensionNames();
    TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
    for (int i = 0; i < shape.length; i++) {
      TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
      if (shape[i] >= 0) {
        d.setDimValue(shape[i]);
      } else if (names != null && i < names.length && !names[i].isEmpty()) {
        d.setDimParam(names[i]);
      }
      dims.addDim(d);
    }
    TypeProto type =
        TypeProto.newBuilder()
            .setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType(t.onnxType)).setShape(dims))
            .build();
    return ValueInfoProto.newBuilder().setName(name).setType(type).build();
  }
}

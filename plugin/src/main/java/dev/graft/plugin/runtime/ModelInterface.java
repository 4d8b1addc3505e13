package dev.graft.plugin.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What clients and patches may pass to an ONNX model, independent of how its sessions are laid out:
 * the inputs and outputs, the initializers an override may replace, and the checks and conversions
 * at that boundary. Shared by every ONNX runtime so that they refuse the same things with the same
 * messages. Immutable and thread safe.
 */
final class ModelInterface {
  private final String name;
  private final OnnxModel model;
  private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
  private final Map<String, long[]> floatShapes = new HashMap<>(); // of float32 initializers
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;

  ModelInterface(String name, OnnxModel model, List<TensorSpec> inputs, List<TensorSpec> outputs) {
    this.name = name;
    this.model = model;
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      initializers.put(t.getName(), t);
      if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        floatShapes.put(t.getName(), t.getDimsList().stream().mapToLong(Long::longValue).toArray());
      }
    }
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  List<TensorSpec> inputs() {
    return inputs;
  }

  List<TensorSpec> outputs() {
    return outputs;
  }

  /** The outputs to compute for a request: {@code wanted}, or all when it is empty. */
  Set<String> outputNames(Set<String> wanted) {
    Set<String> names = new LinkedHashSet<>();
    for (TensorSpec spec : outputs) {
      if (wanted.isEmpty() || wanted.contains(spec.name())) {
        names.add(spec.name());
      }
    }
    Set<String> unknown = new HashSet<>(wanted);
    unknown.removeAll(names);
    if (!unknown.isEmpty()) {
      throw GraftException.invalid(
          "%s has no output named %s (outputs: %s)", name, unknown, names(outputs));
    }
    return names;
  }

  void checkInputs(Map<String, FloatTensor> feeds) {
    Set<String> unknown = new HashSet<>(feeds.keySet());
    for (TensorSpec spec : inputs) {
      unknown.remove(spec.name());
      FloatTensor t = feeds.get(spec.name());
      if (t == null) {
        throw GraftException.invalid("%s: input %s is missing", name, spec.name());
      }
      if (!spec.accepts(t.dims())) {
        throw GraftException.invalid(
            "%s: input %s has shape %s, the model takes %s",
            name, spec.name(), t.shapeString(), Arrays.toString(spec.shape()));
      }
    }
    if (!unknown.isEmpty()) {
      throw GraftException.invalid(
          "%s has no input named %s (inputs: %s)", name, unknown, names(inputs));
    }
  }

  /** Checks typed feeds: each graph input once, of its data type and shape, and nothing else. */
  void checkTensors(List<Tensor> feeds) {
    Map<String, Tensor> byName = new java.util.HashMap<>();
    for (Tensor t : feeds) {
      if (byName.put(t.name(), t) != null) {
        throw GraftException.invalid("%s: input %s is given twice", name, t.name());
      }
    }
    for (TensorSpec spec : inputs) {
      Tensor t = byName.remove(spec.name());
      if (t == null) {
        throw GraftException.invalid("%s: input %s is missing", name, spec.name());
      }
      if (!t.type().name().equals(spec.datatype())) {
        throw GraftException.invalid(
            "%s: input %s has datatype %s, the model takes %s",
            name, spec.name(), t.type(), spec.datatype());
      }
      if (!OrtTensors.canFeed(t.type())) {
        throw GraftException.precondition(
            "%s: input %s is %s, which ONNX Runtime's Java API cannot feed",
            name, spec.name(), t.type());
      }
      if (!spec.accepts(t.shape())) {
        throw GraftException.invalid(
            "%s: input %s has shape %s, the model takes %s",
            name, spec.name(), Arrays.toString(t.shape()), Arrays.toString(spec.shape()));
      }
    }
    if (!byName.isEmpty()) {
      throw GraftException.invalid(
          "%s has no input named %s (inputs: %s)", name, byName.keySet(), names(inputs));
    }
  }

  /**
   * Checks that every override replaces a float32 initializer of the same shape, once. ONNX Runtime
   * accepts unknown names silently, so this is the only guard.
   */
  void validate(Weights weights) {
    Set<String> seen = new HashSet<>();
    for (FloatTensor t : weights.overrides()) {
      if (!seen.add(t.name())) {
        throw GraftException.invalid("%s: tensor %s is replaced twice", name, t.name());
      }
      long[] dims = floatShapes.get(t.name());
      if (dims == null) {
        throw notReplaceable(t.name());
      }
      if (!Arrays.equals(dims, t.dims())) {
        throw GraftException.precondition(
            "%s: initializer %s has shape %s, the replacement has %s",
            name, t.name(), Arrays.toString(dims), t.shapeString());
      }
    }
  }

  /** Why {@code tensor}, not a float32 initializer, cannot be replaced. */
  private GraftException notReplaceable(String tensor) {
    TensorProto init = initializers.get(tensor);
    if (init == null) {
      return GraftException.precondition(
          model.tensors().containsKey(tensor)
              ? "%s: tensor %s is a Constant node output, not an initializer; it cannot be"
                  + " replaced on a live session"
              : "%s has no initializer named %s",
          name,
          tensor);
    }
    return GraftException.precondition(
        "%s: initializer %s is not float32 (data type %d)", name, tensor, init.getDataType());
  }

  /** Copies a float32 output out of ONNX Runtime. */
  FloatTensor toFloatTensor(String output, OnnxValue value) throws OrtException {
    if (!(value instanceof OnnxTensor tensor)
        || tensor.getInfo().onnxType
            != TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      throw GraftException.precondition(
          "%s: output %s is %s; Graft returns float32 outputs only", name, output, value.getInfo());
    }
    FloatBuffer buffer = tensor.getFloatBuffer();
    float[] data = new float[buffer.remaining()];
    buffer.get(data);
    return new FloatTensor(output, tensor.getInfo().getShape(), data);
  }

  /**
   * An ONNX Runtime tensor over a direct buffer it keeps, so a session can read it after creation.
   * The caller owns the tensor.
   */
  static OnnxTensor directTensor(OrtEnvironment env, FloatTensor t) throws OrtException {
    ByteBuffer bytes =
        ByteBuffer.allocateDirect(t.data().length * Float.BYTES).order(ByteOrder.nativeOrder());
    FloatBuffer floats = bytes.asFloatBuffer();
    floats.put(t.data()).flip();
    return OnnxTensor.createTensor(env, floats, t.dims());
  }

  static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo info : infos.values()) {
      ValueInfo v = info.getInfo();
      if (v instanceof TensorInfo t) {
        specs.add(new TensorSpec(info.getName(), datatype(t.onnxType), t.getShape()));
      } else {
        specs.add(new TensorSpec(info.getName(), "UNSUPPORTED", new long[0]));
      }
    }
    return List.copyOf(specs);
  }

  /** KServe v2 data type names. */
  private static String datatype(TensorInfo.OnnxTensorType type) {
    return switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> "FP32";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> "FP64";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> "FP16";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> "BF16";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> "INT8";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> "INT16";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> "INT32";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> "INT64";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> "UINT8";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> "UINT16";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> "UINT32";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> "UINT64";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> "BOOL";
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> "BYTES";
      default -> type.name();
    };
  }

  private static List<String> names(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::name).toList();
  }
}

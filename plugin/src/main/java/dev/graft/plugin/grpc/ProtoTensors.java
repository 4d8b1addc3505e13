package dev.graft.plugin.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.grpc.proto.InferParameter;
import dev.graft.plugin.grpc.proto.InferTensorContents;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ModelInferResponse;
import dev.graft.plugin.grpc.proto.ModelMetadataResponse;
import dev.graft.plugin.kserve.InferRequest;
import dev.graft.plugin.kserve.InferResponse;
import dev.graft.plugin.kserve.ModelMetadata;
import dev.graft.plugin.runtime.DataType;
import dev.graft.plugin.runtime.Tensor;
import dev.graft.plugin.runtime.TensorBuilder;
import dev.graft.plugin.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts KServe v2 gRPC messages to and from the protocol-neutral values. Inputs come as {@code
 * raw_input_contents} (used without copying) or as typed contents (each data type in its field;
 * FP16 and BF16 only raw), never both. Outputs always go out as {@code raw_output_contents}, as
 * Triton answers. Stateless.
 */
final class ProtoTensors {
  private ProtoTensors() {}

  /**
   * @throws GraftException {@code INVALID_ARGUMENT} for mixed raw and typed contents, a count of
   *     raw contents that differs from the inputs, data in the wrong field, or data that do not fit
   *     their datatype and shape
   */
  static InferRequest request(ModelInferRequest r) {
    List<ByteString> raw = r.getRawInputContentsList();
    if (!raw.isEmpty()) {
      if (raw.size() != r.getInputsCount()) {
        throw GraftException.invalid(
            "%d raw_input_contents for %d inputs; give one per input, in input order",
            raw.size(), r.getInputsCount());
      }
      for (ModelInferRequest.InferInputTensor in : r.getInputsList()) {
        if (in.hasContents()) {
          throw GraftException.invalid(
              "input %s has typed contents but raw_input_contents are given: use one form",
              in.getName());
        }
      }
    }
    List<Tensor> inputs = new ArrayList<>();
    for (int i = 0; i < r.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor in = r.getInputs(i);
      DataType type = DataType.parse(in.getDatatype());
      long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
      if (!raw.isEmpty()) {
        inputs.add(new Tensor(in.getName(), type, shape, raw.get(i).asReadOnlyByteBuffer()));
      } else if (in.hasContents()) {
        inputs.add(typed(in.getName(), type, shape, in.getContents()));
      } else {
        throw GraftException.invalid("input %s has no contents", in.getName());
      }
    }
    if (inputs.isEmpty()) {
      throw GraftException.invalid("the request has no inputs");
    }
    List<InferRequest.RequestedOutput> outputs = new ArrayList<>();
    for (ModelInferRequest.InferRequestedOutputTensor o : r.getOutputsList()) {
      outputs.add(new InferRequest.RequestedOutput(o.getName(), parameters(o.getParametersMap())));
    }
    return new InferRequest(
        r.getModelName(),
        r.getModelVersion(),
        r.getId().isEmpty() ? null : r.getId(),
        parameters(r.getParametersMap()),
        inputs,
        outputs);
  }

  private static Tensor typed(String name, DataType type, long[] shape, InferTensorContents c) {
    long count = Tensor.elementCountOf(name, shape);
    TensorBuilder b = new TensorBuilder(name, type, count);
    int given =
        switch (type) {
          case BOOL -> {
            c.getBoolContentsList().forEach(b::addBool);
            yield c.getBoolContentsCount();
          }
          case INT8, INT16, INT32 -> {
            c.getIntContentsList().forEach(v -> b.addLong(v));
            yield c.getIntContentsCount();
          }
          case INT64 -> {
            c.getInt64ContentsList().forEach(b::addLong);
            yield c.getInt64ContentsCount();
          }
          case UINT8, UINT16, UINT32 -> {
            c.getUintContentsList().forEach(v -> b.addLong(Integer.toUnsignedLong(v)));
            yield c.getUintContentsCount();
          }
          case UINT64 -> {
            c.getUint64ContentsList().forEach(b::addLong);
            yield c.getUint64ContentsCount();
          }
          case FP32 -> {
            c.getFp32ContentsList().forEach(b::addFloat);
            yield c.getFp32ContentsCount();
          }
          case FP64 -> {
            c.getFp64ContentsList().forEach(b::addDouble);
            yield c.getFp64ContentsCount();
          }
          case BYTES -> {
            c.getBytesContentsList().forEach(v -> b.addBytes(v.toByteArray()));
            yield c.getBytesContentsCount();
          }
          case FP16, BF16 ->
              throw GraftException.invalid(
                  "input %s is %s, which has no typed contents: send raw_input_contents",
                  name, type);
        };
    if (given != count) {
      throw GraftException.invalid(
          "input %s: shape %s holds %d elements but the %s contents have %d"
              + " (%s data go in %s)",
          name, Arrays.toString(shape), count, type, given, type, field(type));
    }
    return b.build(shape);
  }

  private static String field(DataType type) {
    return switch (type) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case INT64 -> "int64_contents";
      case UINT8, UINT16, UINT32 -> "uint_contents";
      case UINT64 -> "uint64_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      case BYTES -> "bytes_contents";
      case FP16, BF16 -> "raw_input_contents";
    };
  }

  private static Map<String, Object> parameters(Map<String, InferParameter> params) {
    Map<String, Object> values = new LinkedHashMap<>();
    params.forEach(
        (key, p) -> {
          switch (p.getParameterChoiceCase()) {
            case BOOL_PARAM -> values.put(key, p.getBoolParam());
            case INT64_PARAM -> values.put(key, p.getInt64Param());
            case STRING_PARAM -> values.put(key, p.getStringParam());
            case DOUBLE_PARAM -> values.put(key, p.getDoubleParam());
            case UINT64_PARAM -> values.put(key, p.getUint64Param());
            case PARAMETERCHOICE_NOT_SET -> {
              // an empty parameter carries nothing
            }
          }
        });
    return values;
  }

  /** The response, outputs as raw contents (the tensors are immutable: no copy is made). */
  static ModelInferResponse response(InferResponse r) {
    ModelInferResponse.Builder b =
        ModelInferResponse.newBuilder()
            .setModelName(r.model())
            .setModelVersion(r.version())
            .putParameters(
                InferResponse.WEIGHTS_PARAMETER,
                InferParameter.newBuilder().setStringParam(r.weights()).build());
    if (r.id() != null) {
      b.setId(r.id());
    }
    for (Tensor t : r.outputs()) {
      ModelInferResponse.InferOutputTensor.Builder out =
          ModelInferResponse.InferOutputTensor.newBuilder()
              .setName(t.name())
              .setDatatype(t.type().name());
      for (long d : t.shape()) {
        out.addShape(d);
      }
      b.addOutputs(out);
      b.addRawOutputContents(UnsafeByteOperations.unsafeWrap(t.data()));
    }
    return b.build();
  }

  static ModelMetadataResponse metadata(ModelMetadata m) {
    ModelMetadataResponse.Builder b =
        ModelMetadataResponse.newBuilder()
            .setName(m.name())
            .addAllVersions(m.versions())
            .setPlatform(m.platform());
    m.inputs().forEach(s -> b.addInputs(tensor(s)));
    m.outputs().forEach(s -> b.addOutputs(tensor(s)));
    return b.build();
  }

  private static ModelMetadataResponse.TensorMetadata tensor(TensorSpec s) {
    ModelMetadataResponse.TensorMetadata.Builder t =
        ModelMetadataResponse.TensorMetadata.newBuilder()
            .setName(s.name())
            .setDatatype(s.datatype());
    for (long d : s.shape()) {
      t.addShape(d);
    }
    return t.build();
  }
}

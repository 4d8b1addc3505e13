package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.graft.onnx.ExternalData;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model part whose big initializers are memory-mapped from an external data file: the graph
 * (small: the weights are not in it), as bytes and as the file written next to the data file, and
 * one ONNX Runtime tensor over the mapped bytes of each external initializer. Sessions load the
 * graph file and get the tensors through {@code SessionOptions.addInitializer}, so every session of
 * the part reads the same pages of the page cache and none holds a private copy of the file's
 * weights ({@link SessionFactory} says why not {@code addExternalInitializers}).
 *
 * <p>Ownership: owns the tensors (not the mapping, which the JVM unmaps once unreachable; each
 * tensor keeps its buffer reachable). Reference counted: every session built over these tensors
 * holds a reference, because a session reads them for its whole life. Thread safe.
 */
final class MappedWeights extends RefCounted {
  private final String label;
  private final byte[] graph;
  private final Path graphFile;
  private final Map<String, OnnxTensor> tensors;
  private final long mappedBytes;

  private MappedWeights(
      String label,
      byte[] graph,
      Path graphFile,
      Map<String, OnnxTensor> tensors,
      long mappedBytes) {
    this.label = label;
    this.graph = graph;
    this.graphFile = graphFile;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.mappedBytes = mappedBytes;
  }

  /**
   * Maps the data file of an externalized model part.
   *
   * @throws GraftException {@code INTERNAL} when the file cannot be mapped
   */
  static MappedWeights map(OrtEnvironment env, ExternalData.Externalized part, String label) {
    Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
    Map<String, TensorProto> protos = new LinkedHashMap<>();
    for (TensorProto t : part.model().proto().getGraph().getInitializerList()) {
      protos.put(t.getName(), t);
    }
    long total = 0;
    try (FileChannel ch = FileChannel.open(part.dataFile(), StandardOpenOption.READ)) {
      MappedByteBuffer file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      for (Map.Entry<String, ExternalData.Location> e : part.tensors().entrySet()) {
        ExternalData.Location at = e.getValue();
        ByteBuffer slice =
            file.slice(Math.toIntExact(at.offset()), Math.toIntExact(at.length()))
                .order(ByteOrder.nativeOrder());
        TensorProto proto = protos.get(e.getKey());
        long[] dims = proto.getDimsList().stream().mapToLong(Long::longValue).toArray();
        tensors.put(e.getKey(), tensor(env, slice, dims, proto.getDataType()));
        total += at.length();
      }
    } catch (IOException | OrtException | RuntimeException e) {
      tensors.values().forEach(OnnxTensor::close);
      throw new GraftException(
          GraftException.Code.INTERNAL,
          label + ": cannot map " + part.dataFile().getFileName() + ": " + e.getMessage(),
          e);
    }
    return new MappedWeights(label, part.model().toByteArray(), part.modelFile(), tensors, total);
  }

  /** The part's serialized graph, whose big initializers refer to the data file. */
  byte[] graph() {
    return graph;
  }

  /**
   * The graph as written next to the data file: a session must load it from there, so that ONNX
   * Runtime can resolve the external data references of the initializers it is not handed.
   */
  Path graphFile() {
    return graphFile;
  }

  /** The mapped initializers by name; valid while a reference is held. */
  Map<String, OnnxTensor> tensors() {
    return tensors;
  }

  /** Bytes of weights served from the mapping. */
  long mappedBytes() {
    return mappedBytes;
  }

  /** Whether {@link #map} can serve an initializer of this type from the mapping. */
  static boolean mappable(TensorProto t) {
    return switch (t.getDataType()) {
      case TensorProto.DataType.FLOAT_VALUE,
          TensorProto.DataType.DOUBLE_VALUE,
          TensorProto.DataType.INT8_VALUE,
          TensorProto.DataType.UINT8_VALUE,
          TensorProto.DataType.INT16_VALUE,
          TensorProto.DataType.INT32_VALUE,
          TensorProto.DataType.INT64_VALUE,
          TensorProto.DataType.BOOL_VALUE ->
          true;
      default -> false;
    };
  }

  private static OnnxTensor tensor(OrtEnvironment env, ByteBuffer bytes, long[] dims, int type)
      throws OrtException {
    OnnxJavaType javaType =
        switch (type) {
          case TensorProto.DataType.FLOAT_VALUE -> OnnxJavaType.FLOAT;
          case TensorProto.DataType.DOUBLE_VALUE -> OnnxJavaType.DOUBLE;
          case TensorProto.DataType.INT8_VALUE -> OnnxJavaType.INT8;
          case TensorProto.DataType.UINT8_VALUE -> OnnxJavaType.UINT8;
          case TensorProto.DataType.INT16_VALUE -> OnnxJavaType.INT16;
          case TensorProto.DataType.INT32_VALUE -> OnnxJavaType.INT32;
          case TensorProto.DataType.INT64_VALUE -> OnnxJavaType.INT64;
          case TensorProto.DataType.BOOL_VALUE -> OnnxJavaType.BOOL;
          default ->
              throw GraftException.precondition(
                  "initializer data type %d cannot be memory-mapped", type);
        };
    // a direct buffer: ONNX Runtime wraps it without copying
    return OnnxTensor.createTensor(env, bytes, dims, javaType);
  }

  @Override
  protected void closeNative() {
    tensors.values().forEach(OnnxTensor::close);
  }

  @Override
  public String toString() {
    return "mapped weights of " + label;
  }
}

package dev.graft.onnx.split;

import com.google.protobuf.ByteString;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.OperatorSetIdProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.TensorShapeProto;
import dev.graft.onnx.proto.TypeProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Builds small float32 ONNX graphs in code, for tests that need an exact structure. */
final class TinyGraph {
  private final GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny");

  /** A float32 graph input or output of shape {@code [N, dims...]} with a symbolic batch. */
  static ValueInfoProto floats(String name, long... dims) {
    TensorShapeProto.Builder shape =
        TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(shape)))
        .build();
  }

  static TensorProto tensor(String name, long[] dims, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    TensorProto.Builder t =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  TinyGraph input(ValueInfoProto v) {
    graph.addInput(v);
    return this;
  }

  TinyGraph output(ValueInfoProto v) {
    graph.addOutput(v);
    return this;
  }

  TinyGraph initializer(String name, long[] dims, float... values) {
    graph.addInitializer(tensor(name, dims, values));
    return this;
  }

  TinyGraph node(String op, List<String> inputs, String output) {
    graph.addNode(
        NodeProto.newBuilder()
            .setOpType(op)
            .setName(output + "_node")
            .addAllInput(inputs)
            .addOutput(output));
    return this;
  }

  /** A {@code Constant} node holding a float tensor. */
  TinyGraph constant(String output, long[] dims, float... values) {
    graph.addNode(
        NodeProto.newBuilder()
            .setOpType("Constant")
            .setName(output + "_node")
            .addOutput(output)
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("value")
                    .setType(AttributeProto.AttributeType.TENSOR)
                    .setT(tensor(output, dims, values))));
    return this;
  }

  OnnxModel build() {
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
            .setProducerName("graft-test")
            .setGraph(graph)
            .build();
    return OnnxModel.of(model, null, "tiny");
  }
}

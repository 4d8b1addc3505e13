package dev.graft.plugin.testing;

import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.OperatorSetIdProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.TensorShapeProto;
import dev.graft.onnx.proto.TypeProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tiny ONNX graphs built in code for datatype tests.
 *
 * <p>{@link #echo()}: for every data type ONNX Runtime's Java API can feed, an input {@code
 * in_<TYPE>} of shape {@code [n]} copied by Identity to {@code out_<TYPE>}; plus {@code
 * out_UINT16}, {@code out_UINT32} and {@code out_UINT64}, {@code in_INT64} cast to those types.
 * {@link #unsigned()}: one UINT16 input, which the Java API cannot feed.
 */
public final class EchoModel {
  /** KServe v2 type name to ONNX element type, for the types that can be fed. */
  public static final Map<String, Integer> FEEDABLE = new LinkedHashMap<>();

  static {
    FEEDABLE.put("BOOL", TensorProto.DataType.BOOL_VALUE);
    FEEDABLE.put("UINT8", TensorProto.DataType.UINT8_VALUE);
    FEEDABLE.put("INT8", TensorProto.DataType.INT8_VALUE);
    FEEDABLE.put("INT16", TensorProto.DataType.INT16_VALUE);
    FEEDABLE.put("INT32", TensorProto.DataType.INT32_VALUE);
    FEEDABLE.put("INT64", TensorProto.DataType.INT64_VALUE);
    FEEDABLE.put("FP16", TensorProto.DataType.FLOAT16_VALUE);
    FEEDABLE.put("FP32", TensorProto.DataType.FLOAT_VALUE);
    FEEDABLE.put("FP64", TensorProto.DataType.DOUBLE_VALUE);
    FEEDABLE.put("BF16", TensorProto.DataType.BFLOAT16_VALUE);
    FEEDABLE.put("BYTES", TensorProto.DataType.STRING_VALUE);
  }

  private EchoModel() {}

  public static byte[] echo() {
    return echo(FEEDABLE.keySet());
  }

  /** The echo model for some of the {@link #FEEDABLE} types (INT64 among them). */
  public static byte[] echo(java.util.Collection<String> types) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("echo");
    FEEDABLE.forEach(
        (name, type) -> {
          if (!types.contains(name)) {
            return;
          }
          g.addInput(value("in_" + name, type));
          g.addOutput(value("out_" + name, type));
          g.addNode(
              NodeProto.newBuilder()
                  .setOpType("Identity")
                  .addInput("in_" + name)
                  .addOutput("out_" + name));
        });
    Map<String, Integer> unsigned =
        Map.of(
            "UINT16", TensorProto.DataType.UINT16_VALUE,
            "UINT32", TensorProto.DataType.UINT32_VALUE,
            "UINT64", TensorProto.DataType.UINT64_VALUE);
    for (String name : new String[] {"UINT16", "UINT32", "UINT64"}) {
      g.addOutput(value("out_" + name, unsigned.get(name)));
      g.addNode(
          NodeProto.newBuilder()
              .setOpType("Cast")
              .addInput("in_INT64")
              .addOutput("out_" + name)
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("to")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(unsigned.get(name))));
    }
    return model(g);
  }

  public static byte[] unsigned() {
    GraphProto.Builder g =
        GraphProto.newBuilder()
            .setName("unsigned")
            .addInput(value("in", TensorProto.DataType.UINT16_VALUE))
            .addOutput(value("out", TensorProto.DataType.UINT16_VALUE))
            .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("in").addOutput("out"));
    return model(g);
  }

  private static byte[] model(GraphProto.Builder g) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("graft-tests")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  private static ValueInfoProto value(String name, int type) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(type)
                        .setShape(
                            TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n")))))
        .build();
  }
}

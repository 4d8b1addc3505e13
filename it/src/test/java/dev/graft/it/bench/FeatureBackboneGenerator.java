package dev.graft.it.bench;

import com.google.protobuf.ByteString;
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
import java.util.SplittableRandom;

/**
 * Builds, with the ONNX proto classes, a feature extractor whose output {@code features} is {@code
 * [N, width]}: MNIST-shaped input {@code input [N,1,28,28]}, flattened, a linear stem 784→width
 * with ReLU, then {@code blocks} residual MLP blocks (width→4·width, ReLU, 4·width→width, added
 * back), opset 17. With width 768 and 4 blocks it has 19.5M parameters (78 MB), the size class of a
 * ViT-S/16 backbone, so that building its session costs what reloading a real backbone costs.
 *
 * <p>Only for benchmarks: the weights are seeded noise.
 */
public final class FeatureBackboneGenerator {
  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  private static final int INT64 = TensorProto.DataType.INT64_VALUE;

  private final GraphProto.Builder graph = GraphProto.newBuilder().setName("feature_backbone");
  private final SplittableRandom random;

  private FeatureBackboneGenerator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** The serialised model; {@code seed} fixes the weights. */
  public static byte[] generate(int width, int blocks, long seed) {
    if (blocks < 1 || width < 1) {
      throw new IllegalArgumentException("need width >= 1 and blocks >= 1");
    }
    return new FeatureBackboneGenerator(seed).build(width, blocks).toByteArray();
  }

  /** The number of weights and biases of a generated model. */
  public static long parameters(int width, int blocks) {
    return 784L * width + width + blocks * (8L * width * width + 5L * width);
  }

  private ModelProto build(int width, int blocks) {
    graph.addInput(value("input", "N", 1, 28, 28));
    graph.addOutput(value("features", "N", width));
    TensorProto.Builder shape =
        TensorProto.newBuilder().setName("flat_shape").setDataType(INT64).addDims(2);
    shape.addInt64Data(-1).addInt64Data(784);
    graph.addInitializer(shape);
    node("Reshape", "flatten", "flat", "input", "flat_shape");
    String h = linear("stem", "flat", 784, width);
    node("Relu", "stem.relu", "stem.out", h);
    h = "stem.out";
    for (int b = 0; b < blocks; b++) {
      String p = "blocks." + b;
      String up = linear(p + ".fc1", h, width, 4 * width);
      node("Relu", p + ".relu", p + ".act", up);
      String down = linear(p + ".fc2", p + ".act", 4 * width, width);
      String out = b == blocks - 1 ? "features" : p + ".out";
      node("Add", p + ".residual", out, h, down);
      h = out;
    }
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("graft-bench")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(graph)
        .build();
  }

  /** {@code x · W + b} with W {@code [in, out]}; returns the output name. */
  private String linear(String name, String x, int in, int out) {
    weight(name + ".weight", Math.sqrt(2.0 / in), in, out);
    weight(name + ".bias", 0.0, out);
    node("MatMul", name + ".matmul", name + ".mm", x, name + ".weight");
    node("Add", name + ".add", name + ".y", name + ".mm", name + ".bias");
    return name + ".y";
  }

  private void weight(String name, double std, int... dims) {
    int n = 1;
    for (int d : dims) {
      n *= d;
    }
    ByteBuffer bytes = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      bytes.putFloat((float) (std * gaussian()));
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT);
    for (int d : dims) {
      t.addDims(d);
    }
    graph.addInitializer(t.setRawData(ByteString.copyFrom(bytes.array())));
  }

  private double gaussian() {
    // Box-Muller on the seeded generator, so the model is the same on every run
    double u = 1.0 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private void node(String op, String name, String output, String... inputs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
    for (String i : inputs) {
      n.addInput(i);
    }
    graph.addNode(n);
  }

  private static ValueInfoProto value(String name, String batch, int... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
    for (int d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape)))
        .build();
  }
}

package dev.graft.it.bench;

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
import java.util.SplittableRandom;

/**
 * Builds a ViT-S/16-sized ONNX graph with random weights (about 22M parameters, opset 17): patch
 * embedding Conv 3→384, kernel and stride 16, on 224x224 inputs (196 tokens, no class token), a
 * learned position embedding, 12 pre-norm blocks of LayerNormalization, multi-head attention (6
 * heads of 64) and an MLP of 1536 with ReLU, a final LayerNormalization, mean pooling over tokens
 * and a 1000-class head. Initializer names follow timm ({@code blocks.3.attn.qkv.weight}), MatMul
 * weights are stored {@code [in, out]}.
 *
 * <p>Only for benchmarks: the weights are seeded noise, the outputs mean nothing.
 */
public final class VitSmallGenerator {
  public static final int IMAGE = 224;
  public static final int PATCH = 16;
  public static final int DIM = 384;
  public static final int DEPTH = 12;
  public static final int HEADS = 6;
  public static final int MLP = 1536;
  public static final int CLASSES = 1000;
  private static final int TOKENS = (IMAGE / PATCH) * (IMAGE / PATCH);
  private static final int OPSET = 17;
  private static final long IR_VERSION = 8;

  private final GraphProto.Builder graph = GraphProto.newBuilder().setName("vit_small_like");
  private final SplittableRandom random;
  private long parameters;

  private VitSmallGenerator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** The model, built in memory; {@code seed} fixes the weights. */
  public static OnnxModel generate(long seed) {
    return new VitSmallGenerator(seed).build();
  }

  private OnnxModel build() {
    graph.addInput(floatValue("input", "N", 3, IMAGE, IMAGE));
    graph.addOutput(floatValue("logits", "N", CLASSES));
    int grid = IMAGE / PATCH;

    weight("patch_embed.weight", 0.02, DIM, 3, PATCH, PATCH);
    weight("patch_embed.bias", 0.0, DIM);
    node(
        "Conv",
        "patch_embed",
        List.of("input", "patch_embed.weight", "patch_embed.bias"),
        List.of("patches"),
        ints("kernel_shape", PATCH, PATCH),
        ints("strides", PATCH, PATCH));
    int64("shape.tokens_t", 0, DIM, (long) grid * grid);
    node("Reshape", "flatten", List.of("patches", "shape.tokens_t"), List.of("tokens_t"));
    node("Transpose", "to_tokens", List.of("tokens_t"), List.of("tokens"), ints("perm", 0, 2, 1));
    weight("pos_embed", 0.02, 1, TOKENS, DIM);
    node("Add", "add_pos", List.of("tokens", "pos_embed"), List.of("x0"));

    int64("shape.qkv", 0, TOKENS, 3, HEADS, DIM / HEADS);
    int64("shape.merge", 0, TOKENS, DIM);
    int64("index.0", new long[0], 0);
    int64("index.1", new long[0], 1);
    int64("index.2", new long[0], 2);
    scalar("attn.scale", (float) (1 / Math.sqrt(DIM / HEADS)));

    String x = "x0";
    for (int b = 0; b < DEPTH; b++) {
      x = block(b, x);
    }
    layerNorm("norm", x, "x_norm");
    node(
        "ReduceMean",
        "pool",
        List.of("x_norm"),
        List.of("pooled"),
        ints("axes", 1),
        AttributeProto.newBuilder()
            .setName("keepdims")
            .setType(AttributeProto.AttributeType.INT)
            .setI(0)
            .build());
    linear("head", "pooled", "logits", DIM, CLASSES);

    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .setProducerName("graft-it VitSmallGenerator")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
            .setGraph(graph)
            .build();
    return OnnxModel.of(model, null, "generated ViT-S/16-like (" + parameters + " parameters)");
  }

  private String block(int b, String x) {
    String p = "blocks." + b + ".";
    layerNorm(p + "norm1", x, p + "h1");
    linear(p + "attn.qkv", p + "h1", p + "qkv", DIM, 3 * DIM);
    node("Reshape", p + "qkv_split", List.of(p + "qkv", "shape.qkv"), List.of(p + "qkv5"));
    node(
        "Transpose",
        p + "qkv_perm",
        List.of(p + "qkv5"),
        List.of(p + "qkv_t"),
        ints("perm", 2, 0, 3, 1, 4));
    for (int i = 0; i < 3; i++) {
      String part = new String[] {"q", "k", "v"}[i];
      node("Gather", p + part, List.of(p + "qkv_t", "index." + i), List.of(p + part));
    }
    node("Transpose", p + "k_t", List.of(p + "k"), List.of(p + "kt"), ints("perm", 0, 1, 3, 2));
    node("MatMul", p + "scores", List.of(p + "q", p + "kt"), List.of(p + "s"));
    node("Mul", p + "scale", List.of(p + "s", "attn.scale"), List.of(p + "s_scaled"));
    node(
        "Softmax",
        p + "softmax",
        List.of(p + "s_scaled"),
        List.of(p + "a"),
        AttributeProto.newBuilder()
            .setName("axis")
            .setType(AttributeProto.AttributeType.INT)
            .setI(-1)
            .build());
    node("MatMul", p + "context", List.of(p + "a", p + "v"), List.of(p + "c"));
    node("Transpose", p + "c_perm", List.of(p + "c"), List.of(p + "c_t"), ints("perm", 0, 2, 1, 3));
    node("Reshape", p + "merge", List.of(p + "c_t", "shape.merge"), List.of(p + "c_m"));
    linear(p + "attn.proj", p + "c_m", p + "attn_out", DIM, DIM);
    node("Add", p + "residual1", List.of(x, p + "attn_out"), List.of(p + "x1"));

    layerNorm(p + "norm2", p + "x1", p + "h2");
    linear(p + "mlp.fc1", p + "h2", p + "fc1", DIM, MLP);
    node("Relu", p + "act", List.of(p + "fc1"), List.of(p + "fc1_act"));
    linear(p + "mlp.fc2", p + "fc1_act", p + "mlp_out", MLP, DIM);
    node("Add", p + "residual2", List.of(p + "x1", p + "mlp_out"), List.of(p + "x2"));
    return p + "x2";
  }

  /** {@code out = in · W + b} as MatMul then Add (what PyTorch exports for Linear on 3-D input). */
  private void linear(String name, String in, String out, int inDim, int outDim) {
    weight(name + ".weight", 0.02, inDim, outDim);
    weight(name + ".bias", 0.0, outDim);
    node("MatMul", name, List.of(in, name + ".weight"), List.of(name + ".mm"));
    node("Add", name + ".add", List.of(name + ".mm", name + ".bias"), List.of(out));
  }

  private void layerNorm(String name, String in, String out) {
    constant(name + ".weight", 1f, DIM);
    constant(name + ".bias", 0f, DIM);
    node(
        "LayerNormalization",
        name,
        List.of(in, name + ".weight", name + ".bias"),
        List.of(out),
        AttributeProto.newBuilder()
            .setName("axis")
            .setType(AttributeProto.AttributeType.INT)
            .setI(-1)
            .build());
  }

  private void node(
      String op, String name, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
    NodeProto.Builder n =
        NodeProto.newBuilder()
            .setOpType(op)
            .setName(name)
            .addAllInput(inputs)
            .addAllOutput(outputs);
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    graph.addNode(n);
  }

  private static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  /** A float initializer of normal noise with standard deviation {@code std} (0: all zeros). */
  private void weight(String name, double std, long... dims) {
    int n = count(dims);
    ByteBuffer buf = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      buf.putFloat(std == 0 ? 0f : (float) (gaussian() * std));
    }
    addFloat(name, dims, buf);
  }

  private void constant(String name, float value, long... dims) {
    int n = count(dims);
    ByteBuffer buf = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      buf.putFloat(value);
    }
    addFloat(name, dims, buf);
  }

  private void scalar(String name, float value) {
    ByteBuffer buf = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.putFloat(value);
    addFloat(name, new long[0], buf);
  }

  private void addFloat(String name, long[] dims, ByteBuffer buf) {
    parameters += count(dims);
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    graph.addInitializer(t.setRawData(ByteString.copyFrom(buf.array())));
  }

  private void int64(String name, long... values) {
    int64(name, new long[] {values.length}, values);
  }

  private void int64(String name, long[] dims, long... values) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    for (long v : values) {
      t.addInt64Data(v);
    }
    graph.addInitializer(t);
  }

  private double gaussian() {
    // Box-Muller on SplittableRandom: seeded, fast, no shared state
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static int count(long[] dims) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  private static ValueInfoProto floatValue(String name, String batchDim, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batchDim));
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
}

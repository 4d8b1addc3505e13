package dev.graft.plugin.bench;

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
 * Generates a ViT with random weights, shaped like DeiT-S/16 by default: 224x224 RGB input, 16x16
 * patches (196 tokens + a class token = 197), embedding 384, 12 pre-norm blocks of 6-head attention
 * and a 1536-wide GELU MLP, a 1000-class head: 22M parameters, 88 MB of float32. Layer names follow
 * timm ({@code patch}, {@code blocks.N.qkv|proj|fc1|fc2}, {@code head}), so Graft finds the same
 * weight layers as in an exported DeiT. Opset 17; batch dimension symbolic.
 *
 * <p>Only the shapes and the operator mix matter for benchmarks (session build time, memory,
 * latency); the weights are N(0, 0.02) from a fixed seed, so the file is the same on every run.
 */
final class VitGenerator {
  /** The sizes of a ViT. */
  record Config(int image, int patch, int embed, int depth, int heads, int mlp, int classes) {
    static Config deitSmall() {
      return new Config(224, 16, 384, 12, 6, 1536, 1000);
    }

    int tokens() {
      return (image / patch) * (image / patch) + 1;
    }
  }

  private final Config c;
  private final GraphProto.Builder g = GraphProto.newBuilder().setName("vit");
  private final SplittableRandom random = new SplittableRandom(20261127);
  private int counter;

  private VitGenerator(Config c) {
    this.c = c;
  }

  static OnnxModel generate(Config c) {
    return new VitGenerator(c).build();
  }

  private OnnxModel build() {
    int n = c.tokens();
    g.addInput(floats("input", "N", 3, c.image(), c.image()));
    g.addOutput(floats("logits", "N", c.classes()));
    // patch embedding: Conv 16x16 stride 16, then [N, E, 14, 14] -> [N, 196, E]
    String x = conv("patch", "input", c.embed(), 3, c.patch());
    x = node("Reshape", List.of(x, ints("tok_shape", 0, c.embed(), n - 1)));
    x = node("Transpose", List.of(x), perm(0, 2, 1));
    // class token, expanded to the batch: Expand(cls, [N, 1, E])
    g.addInitializer(random("cls", 0.02, 1, 1, c.embed()));
    String batch = node("Slice", List.of(node("Shape", List.of(x)), ints("b0", 0), ints("b1", 1)));
    String clsShape = concat(List.of(batch, ints("one_e", 1, c.embed())));
    String cls = node("Expand", List.of("cls", clsShape));
    x = concatAxis(List.of(cls, x), 1);
    g.addInitializer(random("pos", 0.02, 1, n, c.embed()));
    x = node("Add", List.of(x, "pos"));
    for (int b = 0; b < c.depth(); b++) {
      x = block("blocks." + b, x);
    }
    x = layerNorm("norm", x);
    x = node("Gather", List.of(x, scalar("cls_index", 0)), axis(1));
    String head =
        node(
            "Gemm",
            List.of(
                x,
                init(random("head.weight", 0.02, c.classes(), c.embed())),
                init(zeros("head.bias", c.classes()))),
            attrInt("transB", 1));
    g.addNode(NodeProto.newBuilder().setOpType("Identity").addInput(head).addOutput("logits"));
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
            .setProducerName("graft-bench")
            .setGraph(g)
            .build();
    return OnnxModel.of(model, null, "generated ViT " + c);
  }

  private String block(String name, String x) {
    int n = c.tokens();
    int hd = c.embed() / c.heads();
    String h = layerNorm(name + ".n1", x);
    String qkv = linear(name + ".qkv", h, c.embed(), 3 * c.embed());
    qkv = node("Reshape", List.of(qkv, ints(name + ".qkv_shape", 0, n, 3, c.heads(), hd)));
    qkv = node("Transpose", List.of(qkv), perm(2, 0, 3, 1, 4)); // [3, N, H, T, D]
    String q = node("Gather", List.of(qkv, scalar(name + ".i0", 0)), axis(0));
    String k = node("Gather", List.of(qkv, scalar(name + ".i1", 1)), axis(0));
    String v = node("Gather", List.of(qkv, scalar(name + ".i2", 2)), axis(0));
    String scores = node("MatMul", List.of(q, node("Transpose", List.of(k), perm(0, 1, 3, 2))));
    scores =
        node("Mul", List.of(scores, floatScalar(name + ".scale", (float) (1 / Math.sqrt(hd)))));
    String attn = node("Softmax", List.of(scores), attrInt("axis", -1));
    String out = node("MatMul", List.of(attn, v));
    out = node("Transpose", List.of(out), perm(0, 2, 1, 3));
    out = node("Reshape", List.of(out, ints(name + ".out_shape", 0, n, c.embed())));
    out = linear(name + ".proj", out, c.embed(), c.embed());
    x = node("Add", List.of(x, out));
    h = layerNorm(name + ".n2", x);
    h = linear(name + ".fc1", h, c.embed(), c.mlp());
    h = gelu(name, h);
    h = linear(name + ".fc2", h, c.mlp(), c.embed());
    return node("Add", List.of(x, h));
  }

  private String linear(String name, String x, int in, int out) {
    String y = node("MatMul", List.of(x, init(random(name + ".weight", 0.02, in, out))));
    return node("Add", List.of(y, init(zeros(name + ".bias", out))));
  }

  private String conv(String name, String x, int out, int in, int k) {
    return node(
        "Conv",
        List.of(
            x,
            init(random(name + ".weight", 0.02, out, in, k, k)),
            init(zeros(name + ".bias", out))),
        attrInts("kernel_shape", k, k),
        attrInts("strides", k, k));
  }

  private String layerNorm(String name, String x) {
    return node(
        "LayerNormalization",
        List.of(x, init(ones(name + ".weight", c.embed())), init(zeros(name + ".bias", c.embed()))),
        attrInt("axis", -1));
  }

  /** GELU as PyTorch exports it at opset 17: x * 0.5 * (1 + erf(x / sqrt 2)). */
  private String gelu(String name, String x) {
    String e =
        node(
            "Erf",
            List.of(node("Div", List.of(x, floatScalar(name + ".sqrt2", (float) Math.sqrt(2))))));
    String plus = node("Add", List.of(e, floatScalar(name + ".one", 1f)));
    return node("Mul", List.of(node("Mul", List.of(x, plus)), floatScalar(name + ".half", 0.5f)));
  }

  private String concat(List<String> parts) {
    return concatAxis(parts, 0);
  }

  private String concatAxis(List<String> parts, int axis) {
    return node("Concat", parts, attrInt("axis", axis));
  }

  private String node(String op, List<String> inputs, AttributeProto... attributes) {
    String out = "/" + op.toLowerCase(java.util.Locale.ROOT) + "_" + counter++;
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(inputs);
    for (AttributeProto a : attributes) {
      n.addAttribute(a);
    }
    g.addNode(n.addOutput(out));
    return out;
  }

  private String init(TensorProto t) {
    g.addInitializer(t);
    return t.getName();
  }

  private String ints(String name, long... values) {
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
    t.addDims(values.length);
    for (long v : values) {
      t.addInt64Data(v);
    }
    return init(t.build());
  }

  private String scalar(String name, long value) {
    return init(
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.INT64_VALUE)
            .addInt64Data(value)
            .build());
  }

  private String floatScalar(String name, float value) {
    return init(floatTensor(name, new float[] {value}));
  }

  private TensorProto random(String name, double std, long... dims) {
    float[] v = new float[Math.toIntExact(count(dims))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (random.nextGaussian() * std);
    }
    return floatTensor(name, v, dims);
  }

  private static TensorProto zeros(String name, long n) {
    return floatTensor(name, new float[(int) n], n);
  }

  private static TensorProto ones(String name, long n) {
    float[] v = new float[(int) n];
    java.util.Arrays.fill(v, 1f);
    return floatTensor(name, v, n);
  }

  private static TensorProto floatTensor(String name, float[] values, long... dims) {
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

  private static long count(long[] dims) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  private static AttributeProto perm(long... p) {
    return attrInts("perm", p);
  }

  private static AttributeProto axis(long a) {
    return attrInt("axis", a);
  }

  private static AttributeProto attrInt(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  private static AttributeProto attrInts(String name, long... v) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static ValueInfoProto floats(String name, String batch, long... dims) {
    TensorShapeProto.Builder shape =
        TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
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

package dev.graft.onnx.gen;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.ofq.StatsQ;
import dev.graft.onnx.proto.TensorProto;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates a DeiT-style Vision Transformer with seeded random weights, for benchmarks: a Conv
 * patch embedding, a class token and learned positions, pre-norm blocks (LayerNormalization,
 * multi-head attention with Reshape/Transpose for the heads, an MLP with the exact Erf GELU), a
 * final LayerNormalization and a Gemm head on the class token. Opset 17, IR 8; linear weights are
 * stored {@code [in, out]} as MatMul operands and named {@code blocks.N.{qkv,proj,fc1,fc2}.weight}
 * like the OFQ fixture. With {@link VitSpec#statsq()} those weights are put on StatsQ 2-bit levels
 * ({@link StatsQ#requantize}, per output row), the patch embedding and head stay float as in OFQ.
 *
 * <p>Input {@code input [N, C, H, W]}, output {@code logits [N, classes]}. The outputs mean
 * nothing; the model exists to be timed and sized.
 */
public final class VitGenerator {
  private static final long OPSET = 17;
  private static final long IR_VERSION = 8;
  private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

  private final VitSpec spec;
  private final SplittableRandom random;
  private final GraphBuilder g;
  private long parameters;

  private VitGenerator(VitSpec spec) {
    this.spec = spec;
    this.random = new SplittableRandom(spec.seed());
    this.g = new GraphBuilder("vit");
  }

  /** Builds the model in memory. */
  public static OnnxModel generate(VitSpec spec) {
    return new VitGenerator(spec).build();
  }

  private OnnxModel build() {
    int d = spec.embed();
    int grid = spec.image() / spec.patch();
    String input = g.input("input", FLOAT, "N", spec.channels(), spec.image(), spec.image());
    String patches =
        g.node("Conv")
            .name("patch_embed")
            .in(
                input,
                weight("patch_embed.weight", 0.02, d, spec.channels(), spec.patch(), spec.patch()),
                zeros("patch_embed.bias", d))
            .ints("kernel_shape", spec.patch(), spec.patch())
            .ints("strides", spec.patch(), spec.patch())
            .out("patches");
    String flat =
        g.node("Reshape").in(patches, g.int64s("shape_flat", 0, d, (long) grid * grid)).out();
    String tokens = g.node("Transpose").in(flat).ints("perm", 0, 2, 1).out("tokens");

    String batch = g.node("Shape").in(input).attr("start", 0).attr("end", 1).out("batch");
    String clsShape =
        g.node("Concat").in(batch, g.int64s("cls_tail", 1, d)).attr("axis", 0).out("cls_shape");
    String cls = g.node("Expand").in(weight("cls_token", 0.02, 1, 1, d), clsShape).out("cls");
    String x = g.node("Concat").in(cls, tokens).attr("axis", 1).out("x_tokens");
    x = g.node("Add").in(x, weight("pos_embed", 0.02, 1, spec.tokens(), d)).out("x");

    for (int b = 0; b < spec.depth(); b++) {
      x = block(b, x);
    }
    x = layerNorm("norm", x);
    String first =
        g.node("Gather")
            .in(x, g.init(Protos.int64s("cls_index", new long[0], 0)))
            .attr("axis", 1)
            .out("cls_out");
    String logits =
        g.node("Gemm")
            .name("head")
            .in(
                first,
                weight("head.weight", 0.02, spec.classes(), d),
                zeros("head.bias", spec.classes()))
            .attr("transB", 1)
            .to("logits");
    g.output(logits, "logits", FLOAT, "N", spec.classes());

    Map<String, Long> opsets = new LinkedHashMap<>();
    opsets.put("", OPSET);
    String what =
        String.format(
            "generated ViT embed %d depth %d heads %d mlp %d image %d patch %d%s (%,d parameters)",
            spec.embed(),
            spec.depth(),
            spec.heads(),
            spec.mlp(),
            spec.image(),
            spec.patch(),
            spec.statsq() ? " StatsQ 2-bit" : "",
            parameters);
    return OnnxModel.of(g.model(IR_VERSION, opsets, "graft gen vit"), null, what);
  }

  private String block(int b, String x) {
    String p = "blocks." + b + ".";
    int d = spec.embed();
    int h = spec.heads();
    int dh = d / h;
    String h1 = layerNorm(p + "norm1", x);
    String qkv = linear(p + "qkv", h1, d, 3 * d);
    String split =
        g.node("Reshape").in(qkv, g.int64s(p + "qkv_shape", 0, 0, 3, h, dh)).out(p + "qkv5");
    String heads = g.node("Transpose").in(split).ints("perm", 2, 0, 3, 1, 4).out(p + "qkv_t");
    String[] qkvParts =
        g.node("Split")
            .in(heads, g.int64s(p + "split", 1, 1, 1))
            .attr("axis", 0)
            .outs(p + "part", 3);
    String axis0 = g.int64s(p + "axis0", 0);
    String q = g.node("Squeeze").in(qkvParts[0], axis0).out(p + "q");
    String k = g.node("Squeeze").in(qkvParts[1], axis0).out(p + "k");
    String v = g.node("Squeeze").in(qkvParts[2], axis0).out(p + "v");
    String kt = g.node("Transpose").in(k).ints("perm", 0, 1, 3, 2).out(p + "kt");
    String scores = g.node("MatMul").in(q, kt).out(p + "scores");
    scores =
        g.node("Mul")
            .in(scores, g.scalar(p + "scale", (float) (1 / Math.sqrt(dh))))
            .out(p + "scaled");
    String attn = g.node("Softmax").in(scores).attr("axis", -1).out(p + "attn");
    String ctx = g.node("MatMul").in(attn, v).out(p + "ctx");
    ctx = g.node("Transpose").in(ctx).ints("perm", 0, 2, 1, 3).out(p + "ctx_t");
    ctx = g.node("Reshape").in(ctx, g.int64s(p + "merge", 0, 0, d)).out(p + "ctx_m");
    String proj = linear(p + "proj", ctx, d, d);
    x = g.node("Add").in(x, proj).out(p + "x1");

    String h2 = layerNorm(p + "norm2", x);
    String fc1 = linear(p + "fc1", h2, d, spec.mlp());
    String gelu = gelu(p + "gelu", fc1);
    String fc2 = linear(p + "fc2", gelu, spec.mlp(), d);
    return g.node("Add").in(x, fc2).out(p + "x2");
  }

  /** {@code in · W + b} as MatMul then Add, with {@code W} stored {@code [in, out]}. */
  private String linear(String name, String in, int inDim, int outDim) {
    float[] w = gaussian(0.02, (long) inDim * outDim);
    if (spec.statsq()) {
      statsq(w, inDim, outDim);
    }
    String wName = g.init(Protos.floats(name + ".weight", new long[] {inDim, outDim}, w));
    parameters += w.length;
    String mm = g.node("MatMul").name(name).in(in, wName).out(name + ".mm");
    return g.node("Add").in(mm, zeros(name + ".bias", outDim)).out(name + ".out");
  }

  /** Puts each output column of an {@code [in, out]} matrix on its StatsQ levels. */
  private static void statsq(float[] w, int in, int out) {
    byte[] codes = new byte[in];
    for (int col = 0; col < out; col++) {
      StatsQ.Row row = new StatsQ.Row(w, col, out, in);
      float half = StatsQ.requantize(row, codes, 0);
      for (int i = 0; i < in; i++) {
        w[i * out + col] = StatsQ.level(codes[i], half);
      }
    }
  }

  private String gelu(String name, String x) {
    // 0.5 · x · (1 + erf(x / √2)), as PyTorch exports nn.GELU()
    String div = g.node("Div").in(x, g.scalar("sqrt2", (float) Math.sqrt(2))).out(name + ".div");
    String erf = g.node("Erf").in(div).out(name + ".erf");
    String plus = g.node("Add").in(erf, g.scalar("one", 1f)).out(name + ".add");
    String mul = g.node("Mul").in(x, plus).out(name + ".mul");
    return g.node("Mul").in(mul, g.scalar("half", 0.5f)).out(name);
  }

  private String layerNorm(String name, String x) {
    int d = spec.embed();
    float[] ones = new float[d];
    java.util.Arrays.fill(ones, 1f);
    String scale = g.init(Protos.floats(name + ".weight", new long[] {d}, ones));
    parameters += d;
    return g.node("LayerNormalization")
        .name(name)
        .in(x, scale, zeros(name + ".bias", d))
        .attr("axis", -1)
        .attr("epsilon", 1e-6f)
        .out(name + ".out");
  }

  private String weight(String name, double std, long... dims) {
    long n = 1;
    for (long dim : dims) {
      n *= dim;
    }
    parameters += n;
    return g.init(Protos.floats(name, dims, gaussian(std, n)));
  }

  private String zeros(String name, int n) {
    parameters += n;
    return g.init(Protos.floats(name, new long[] {n}, new float[n]));
  }

  private float[] gaussian(double std, long count) {
    float[] out = new float[Math.toIntExact(count)];
    for (int i = 0; i < out.length; i++) {
      // Box-Muller on the seeded generator
      double u1 = 1.0 - random.nextDouble();
      double u2 = random.nextDouble();
      out[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
    return out;
  }
}

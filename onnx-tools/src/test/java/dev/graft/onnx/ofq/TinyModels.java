package dev.graft.onnx.ofq;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.TensorProto;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small graphs with StatsQ weights in every position the packer meets. */
final class TinyModels {
  static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

  private TinyModels() {}

  /** A StatsQ weight: {@code codes [out, in]}, one scale per row. */
  record Weight(byte[] codes, float[] scales, int out, int in) {
    static Weight random(int out, int in, long seed) {
      Random rnd = new Random(seed);
      byte[] codes = new byte[out * in];
      float[] scales = new float[out];
      for (int r = 0; r < out; r++) {
        scales[r] = 0.01f + rnd.nextFloat() * 0.1f;
        for (int c = 0; c < in; c++) {
          codes[r * in + c] = (byte) (rnd.nextInt(4) - 2);
        }
        codes[r * in] = 0; // both magnitudes in every row, as StatsQ gives
        codes[r * in + 1] = -2;
      }
      return new Weight(codes, scales, out, in);
    }

    float value(int r, int c) {
      return (codes[r * in + c] + 0.5f) * scales[r] / 2f;
    }

    /** The weight as a MatMul right operand {@code [in, out]}. */
    float[] inOut() {
      float[] w = new float[out * in];
      for (int r = 0; r < out; r++) {
        for (int c = 0; c < in; c++) {
          w[c * out + r] = value(r, c);
        }
      }
      return w;
    }

    /** The weight as Gemm's {@code transB=1} operand {@code [out, in]}. */
    float[] outIn() {
      float[] w = new float[out * in];
      for (int r = 0; r < out; r++) {
        for (int c = 0; c < in; c++) {
          w[r * in + c] = value(r, c);
        }
      }
      return w;
    }
  }

  /** {@code y = x · W + b} with MatMul and Add, W an initializer {@code [in, out]}. */
  static OnnxModel matMul(Weight w) {
    GraphBuilder g = new GraphBuilder("tiny");
    String x = g.input("x", FLOAT, "N", w.in());
    String wt = g.init(Protos.floats("fc.weight", new long[] {w.in(), w.out()}, w.inOut()));
    String mm = g.node("MatMul").name("fc").in(x, wt).out("mm");
    String y = g.node("Add").in(mm, bias(g, w.out())).to("y");
    g.output(y, "y", FLOAT, "N", w.out());
    return model(g, 17);
  }

  /** {@code y = Gemm(x, W, b, transB=1)} with W the value of a Constant node. */
  static OnnxModel gemmConstant(Weight w) {
    GraphBuilder g = new GraphBuilder("tiny");
    String x = g.input("x", FLOAT, "N", w.in());
    String wt =
        g.node("Constant")
            .in()
            .attrTensor("value", Protos.floats("", new long[] {w.out(), w.in()}, w.outIn()))
            .out("head.weight");
    String y = g.node("Gemm").name("head").in(x, wt, bias(g, w.out())).attr("transB", 1L).to("y");
    g.output(y, "y", FLOAT, "N", w.out());
    return model(g, 17);
  }

  /** {@code y = W · x} (the weight on the left): a place the packer refuses. */
  static OnnxModel leftOperand(Weight w) {
    GraphBuilder g = new GraphBuilder("tiny");
    String x = g.input("x", FLOAT, w.in(), "N");
    String wt = g.init(Protos.floats("w", new long[] {w.out(), w.in()}, w.outIn()));
    String y = g.node("MatMul").name("left").in(wt, x).to("y");
    g.output(y, "y", FLOAT, w.out(), "N");
    return model(g, 17);
  }

  /** MatMul, then ReduceMean with its opset-17 {@code axes} attribute (opset 18 made it input). */
  static OnnxModel matMulThenReduceMean(Weight w) {
    GraphBuilder g = new GraphBuilder("tiny");
    String x = g.input("x", FLOAT, "N", w.in());
    String wt = g.init(Protos.floats("fc.weight", new long[] {w.in(), w.out()}, w.inOut()));
    String mm = g.node("MatMul").name("fc").in(x, wt).out("mm");
    String y = g.node("ReduceMean").in(mm).ints("axes", 1).attr("keepdims", 1L).to("y");
    g.output(y, "y", FLOAT, "N", 1);
    return model(g, 17);
  }

  static float[] randomInput(int rows, int cols, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[rows * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    return x;
  }

  private static String bias(GraphBuilder g, int n) {
    float[] b = new float[n];
    for (int i = 0; i < n; i++) {
      b[i] = 0.01f * i;
    }
    return g.init(Protos.floats("bias", new long[] {n}, b));
  }

  private static OnnxModel model(GraphBuilder g, long opset) {
    Map<String, Long> opsets = new LinkedHashMap<>();
    opsets.put("", opset);
    return OnnxModel.of(g.model(8, opsets, "graft test"), null, "tiny model");
  }
}

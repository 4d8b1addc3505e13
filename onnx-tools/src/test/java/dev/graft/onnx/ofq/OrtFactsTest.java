package dev.graft.onnx.ofq;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.proto.TensorProto;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What ONNX Runtime 1.29 does with 2-bit weights, measured: the facts the formats are built on. A
 * failure here after an ONNX Runtime upgrade means the choice of formats should be looked at again.
 */
class OrtFactsTest {
  private static final int K = 96;
  private static final int N = 64;

  /**
   * MatMulNBits with a float zero point of 1.5 on codes {@code k+2} would store StatsQ levels
   * directly, but ONNX Runtime dequantizes as {@code q·scale + (−zp·scale)}: two roundings.
   */
  @Test
  void matMulNBitsWithFloatZeroPointIsNotBitExact() throws Exception {
    TinyModels.Weight w = TinyModels.Weight.random(N, K, 11);
    QuantizedWeight q = new QuantizedWeight("w", "w", N, K, w.codes(), w.scales(), 0);
    byte[] packed = TwoBit.nbits(q, 32);
    float[] scales = new float[N * 3];
    float[] zeroPoints = new float[N * 3];
    for (int r = 0; r < N; r++) {
      Arrays.fill(scales, r * 3, r * 3 + 3, q.half(r));
      Arrays.fill(zeroPoints, r * 3, r * 3 + 3, 1.5f);
    }
    GraphBuilder g = new GraphBuilder("float_zero_point");
    String a = g.input("a", TinyModels.FLOAT, K, K);
    String y =
        g.node("MatMulNBits", "com.microsoft")
            .in(
                a,
                g.init(
                    Protos.raw(
                        "b", TensorProto.DataType.UINT8_VALUE, new long[] {N, 3, 8}, packed)),
                g.init(Protos.floats("scales", new long[] {N * 3}, scales)),
                g.init(Protos.floats("zp", new long[] {N * 3}, zeroPoints)))
            .attr("K", K)
            .attr("N", N)
            .attr("bits", 2)
            .attr("block_size", 32)
            .attr("accuracy_level", 0)
            .to("y");
    g.output(y, "y", TinyModels.FLOAT, K, N);

    float[][] out = runIdentity(g);

    int inexact = 0;
    for (int c = 0; c < K; c++) {
      for (int r = 0; r < N; r++) {
        if (out[c][r] != q.weight(r, c)) {
          inexact++;
        }
      }
    }
    assertThat(inexact).as("weights off by rounding with a float zero point").isPositive();
  }

  /** The default integer zero point gives {@code k·h} exactly: what the nbits format uses. */
  @Test
  void matMulNBitsWithDefaultZeroPointGivesCodeTimesScaleExactly() throws Exception {
    TinyModels.Weight w = TinyModels.Weight.random(N, K, 12);
    QuantizedWeight q = new QuantizedWeight("w", "w", N, K, w.codes(), w.scales(), 0);
    float[] scales = new float[N];
    for (int r = 0; r < N; r++) {
      scales[r] = q.half(r);
    }
    GraphBuilder g = new GraphBuilder("default_zero_point");
    String a = g.input("a", TinyModels.FLOAT, K, K);
    String y =
        g.node("MatMulNBits", "com.microsoft")
            .in(
                a,
                g.init(
                    Protos.raw(
                        "b",
                        TensorProto.DataType.UINT8_VALUE,
                        new long[] {N, 1, 32},
                        TwoBit.nbits(q, 128))),
                g.init(Protos.floats("scales", new long[] {N}, scales)))
            .attr("K", K)
            .attr("N", N)
            .attr("bits", 2)
            .attr("block_size", 128)
            .attr("accuracy_level", 0)
            .to("y");
    g.output(y, "y", TinyModels.FLOAT, K, N);

    float[][] out = runIdentity(g);

    for (int c = 0; c < K; c++) {
      for (int r = 0; r < N; r++) {
        assertThat(out[c][r])
            .as("[%d,%d] (K=96 padded to one block of 128)", r, c)
            .isEqualTo(w.codes()[r * K + c] * q.half(r));
      }
    }
  }

  private static float[][] runIdentity(GraphBuilder g) throws Exception {
    Map<String, Long> opsets = new LinkedHashMap<>();
    opsets.put("", 17L);
    opsets.put("com.microsoft", 1L);
    OnnxModel m = OnnxModel.of(g.model(8, opsets, "test"), null, "probe");
    float[] eye = new float[K * K];
    for (int i = 0; i < K; i++) {
      eye[i * K + i] = 1f;
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = OrtClassifier.options(Map.of());
        OrtSession s = env.createSession(m.toByteArray(), o);
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(eye), new long[] {K, K});
        OrtSession.Result r = s.run(Map.of("a", in))) {
      return (float[][]) r.get(0).getValue();
    }
  }
}

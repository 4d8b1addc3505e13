package dev.graft.onnx.ofq;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.proto.ModelProto;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * Asks ONNX Runtime what a packed layer really computes: each weight is packed alone, run on
 * one-hot inputs (so the output is the weights themselves), and compared bit for bit with the
 * values the fake-quant model holds ({@link StatsQ#level}). At most {@value #MAX_PROBED_INPUTS}
 * input features per weight are probed, spread evenly.
 */
public final class ExactnessProbe {
  static final int MAX_PROBED_INPUTS = 512;

  private ExactnessProbe() {}

  /**
   * What the probe found.
   *
   * @param exact every probed weight came back bit for bit
   * @param probed how many weights were compared
   * @param mismatches how many differed
   * @param detail the first difference, or why ONNX Runtime could not run the format; empty if
   *     exact
   */
  public record Result(boolean exact, long probed, long mismatches, String detail) {}

  /**
   * Probes every weight in a format.
   *
   * @param sessionConfig ONNX Runtime session config entries of the sessions that will run the
   *     model (e.g. {@code session.qdq_matmulnbits_accuracy_level})
   */
  public static Result check(
      List<QuantizedWeight> weights,
      PackFormat format,
      int blockSize,
      int accuracyLevel,
      Map<String, String> sessionConfig) {
    long probed = 0;
    long mismatches = 0;
    String detail = "";
    for (QuantizedWeight w : weights) {
      int rows = Math.min(w.inFeatures(), MAX_PROBED_INPUTS);
      int[] cols = new int[rows];
      float[] oneHot = new float[rows * w.inFeatures()];
      for (int i = 0; i < rows; i++) {
        cols[i] = (int) ((long) i * w.inFeatures() / rows);
        oneHot[i * w.inFeatures() + cols[i]] = 1f;
      }
      ModelProto probe = PackedModelWriter.probeModel(w, format, blockSize, accuracyLevel, rows);
      float[][] y;
      try {
        y = run(probe, oneHot, new long[] {rows, w.inFeatures()}, sessionConfig);
      } catch (OrtException e) {
        String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        return new Result(
            false,
            probed,
            mismatches,
            "ONNX Runtime cannot run " + format.id() + " for " + w.layer() + ": " + first);
      }
      for (int i = 0; i < rows; i++) {
        for (int r = 0; r < w.outFeatures(); r++) {
          probed++;
          float expected = w.weight(r, cols[i]);
          if (Float.floatToIntBits(y[i][r]) != Float.floatToIntBits(expected)
              && y[i][r] != expected) {
            if (mismatches++ == 0) {
              detail =
                  String.format(
                      "%s[%d,%d]: ONNX Runtime computes %s, the model holds %s",
                      w.layer(), r, cols[i], y[i][r], expected);
            }
          }
        }
      }
    }
    return new Result(mismatches == 0, probed, mismatches, detail);
  }

  private static float[][] run(
      ModelProto model, float[] input, long[] shape, Map<String, String> config)
      throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtClassifier.options(config);
        OrtSession session = env.createSession(model.toByteArray(), options);
        OnnxTensor a = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
        OrtSession.Result r = session.run(Map.of("a", a))) {
      return (float[][]) r.get(0).getValue();
    }
  }
}

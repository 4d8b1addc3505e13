package dev.graft.onnx.eval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * Runs an image classifier ({@code [N,C,H,W]} float input, {@code [N,K]} logits) with ONNX Runtime,
 * for offline evaluation. Owns its session; not thread safe; close it.
 */
public final class OrtClassifier implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String input;
  private final String output;

  /**
   * Builds a session at EXTENDED_OPT (ALL_OPT's layout pass would be fine too: no overrides here).
   */
  public OrtClassifier(OnnxModel model) {
    this(model, Map.of());
  }

  /** Builds a session with {@link #options(Map) these} options and extra session config entries. */
  public OrtClassifier(OnnxModel model, Map<String, String> sessionConfig) {
    try (OrtSession.SessionOptions opts = options(sessionConfig)) {
      session = env.createSession(model.toByteArray(), opts);
      input = session.getInputNames().iterator().next();
      output = session.getOutputNames().iterator().next();
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          model.source() + ": ONNX Runtime cannot load it (" + e.getMessage() + ")",
          e);
    }
  }

  /**
   * The options of offline evaluation sessions: EXTENDED_OPT, at most two intra-op threads, no
   * spinning, plus {@code sessionConfig} entries (which may override the spinning default). The
   * caller owns and closes them.
   */
  public static OrtSession.SessionOptions options(Map<String, String> sessionConfig)
      throws OrtException {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    try {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      opts.setIntraOpNumThreads(
          Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())));
      opts.addConfigEntry("session.intra_op.allow_spinning", "0");
      for (Map.Entry<String, String> e : sessionConfig.entrySet()) {
        opts.addConfigEntry(e.getKey(), e.getValue());
      }
      return opts;
    } catch (OrtException | RuntimeException e) {
      opts.close();
      throw e;
    }
  }

  /** Logits {@code [n][k]} for a batch of {@code n} images of shape {@code shape[1..]}. */
  public float[][] logits(float[] pixels, long[] shape) {
    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), shape);
        OrtSession.Result r = session.run(Map.of(input, t))) {
      return (float[][]) r.get(output).orElseThrow().getValue();
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, "inference failed: " + e.getMessage(), e);
    }
  }

  /** Logits of every image of a set, in batches. */
  public float[][] logits(Idx.Images images, int batch) {
    float[][] all = new float[images.count()][];
    for (int from = 0; from < images.count(); from += batch) {
      int n = Math.min(batch, images.count() - from);
      float[][] out =
          logits(images.batch(from, n), new long[] {n, 1, images.height(), images.width()});
      System.arraycopy(out, 0, all, from, n);
    }
    return all;
  }

  /** Top-1 accuracy against labels. */
  public static double accuracy(float[][] logits, int[] labels) {
    int correct = 0;
    for (int i = 0; i < logits.length; i++) {
      if (argmax(logits[i]) == labels[i]) {
        correct++;
      }
    }
    return (double) correct / logits.length;
  }

  public static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, "closing session: " + e.getMessage(), e);
    }
  }
}

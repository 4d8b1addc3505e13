package dev.graft.it;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.rws.RwsPatch;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model run in this JVM with ONNX Runtime, independently of the server: the expected outputs of
 * the end-to-end tests. Uses the example store's session settings (EXTENDED_OPT, one intra-op and
 * one inter-op thread), so the same weights and input give the server's bits.
 *
 * <p>Owns its session and options; {@link #close()} releases them. Not for concurrent use.
 */
public final class OrtReference implements AutoCloseable {
  private final OrtSession.SessionOptions options;
  private final OrtSession session;

  private OrtReference(byte[] model) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      session = env.createSession(model, options);
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /** A session on {@code model} as it is. */
  public static OrtReference of(OnnxModel model) {
    try {
      return new OrtReference(model.toByteArray());
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime refused " + model.source(), e);
    }
  }

  /** A session on {@code base} patched offline with {@code terms} ({@link RwsPatch#apply}). */
  public static OrtReference patched(OnnxModel base, List<RwsPatch.Term> terms) {
    if (terms.isEmpty()) {
      return of(base);
    }
    List<FloatTensor> patched = RwsPatch.apply(base::floatTensor, terms);
    return of(base.withTensors(patched));
  }

  /** Runs {@code batch} as the model's first input and returns its first output, flat. */
  public float[] run(Batch batch) {
    String input = session.getInputNames().iterator().next();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor tensor =
            OnnxTensor.createTensor(env, FloatBuffer.wrap(batch.data()), batch.shape());
        OrtSession.Result result = session.run(Map.of(input, tensor))) {
      OnnxTensor out = (OnnxTensor) result.get(0);
      FloatBuffer buffer = out.getFloatBuffer();
      float[] values = new float[buffer.remaining()];
      buffer.get(values);
      return values;
    } catch (OrtException e) {
      throw new IllegalStateException("inference failed", e);
    }
  }

  /**
   * Runs every image of {@code images} in {@code batchSize}-image batches and returns the outputs
   * one after another, as {@link Vgg#logits} collects a server's.
   */
  public float[] runAll(Idx.Images images, int batchSize) {
    List<float[]> parts = new ArrayList<>();
    int total = 0;
    for (int from = 0; from < images.count(); from += batchSize) {
      float[] part = run(Batch.of(images, from, Math.min(batchSize, images.count() - from)));
      parts.add(part);
      total += part.length;
    }
    float[] all = new float[total];
    int at = 0;
    for (float[] part : parts) {
      System.arraycopy(part, 0, all, at, part.length);
      at += part.length;
    }
    return all;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    } finally {
      options.close();
    }
  }
}

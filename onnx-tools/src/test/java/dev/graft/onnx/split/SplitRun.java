package dev.graft.onnx.split;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a model whole and as stem then body in ONNX Runtime, on the same inputs, for equivalence
 * checks. The stem's outputs go to the body as the native tensors the stem returned. Owns its three
 * sessions; close it.
 */
final class SplitRun implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession whole;
  private final OrtSession stem;
  private final OrtSession body;
  private final List<String> passThrough;

  SplitRun(OnnxModel model, ModelSplit split) throws OrtException {
    whole = session(model);
    stem = session(split.stem());
    body = session(split.body());
    passThrough = split.passThrough();
  }

  private OrtSession session(OnnxModel m) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      o.setIntraOpNumThreads(1);
      return env.createSession(m.toByteArray(), o);
    }
  }

  /** The whole model's outputs, then the split's, each by output name. */
  record Outputs(Map<String, float[]> whole, Map<String, float[]> split) {
    /** The largest absolute difference over every output element. */
    double maxAbsDiff() {
      double max = 0;
      for (Map.Entry<String, float[]> e : whole.entrySet()) {
        float[] a = e.getValue();
        float[] b = split.get(e.getKey());
        if (b == null || b.length != a.length) {
          return Double.POSITIVE_INFINITY;
        }
        for (int i = 0; i < a.length; i++) {
          max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
      }
      return max;
    }
  }

  /** Runs both ways on one float input. */
  Outputs run(String input, float[] data, long[] shape) throws OrtException {
    try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
      Map<String, float[]> wholeOut;
      try (OrtSession.Result r = whole.run(Map.of(input, x))) {
        wholeOut = floats(r);
      }
      Map<String, OnnxTensor> stemFeeds = new HashMap<>();
      if (stem.getInputNames().contains(input)) {
        stemFeeds.put(input, x);
      }
      try (OrtSession.Result cut = stem.run(stemFeeds)) {
        Map<String, OnnxTensor> bodyFeeds = new HashMap<>();
        for (Map.Entry<String, OnnxValue> e : cut) {
          bodyFeeds.put(e.getKey(), (OnnxTensor) e.getValue());
        }
        if (passThrough.contains(input)) {
          bodyFeeds.put(input, x);
        }
        try (OrtSession.Result r = body.run(bodyFeeds)) {
          return new Outputs(wholeOut, floats(r));
        }
      }
    }
  }

  private static Map<String, float[]> floats(OrtSession.Result r) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, OnnxValue> e : r) {
      FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
      float[] v = new float[b.remaining()];
      b.get(v);
      out.put(e.getKey(), v);
    }
    return out;
  }

  @Override
  public void close() throws OrtException {
    whole.close();
    stem.close();
    body.close();
  }
}

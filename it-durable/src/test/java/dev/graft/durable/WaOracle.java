package dev.graft.durable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What {@code mnist-wa} should compute, computed here without the server: the backbone's features
 * of the first {@link Oracle#IMAGES} test images through ONNX Runtime, and heads made offline from
 * the fixtures with {@link IncrementalStep}. Also reads the head's record in {@code graft.json}
 * independently of the plugin's code. Thread safe.
 */
final class WaOracle {
  static final String MODEL = "mnist-wa";
  static final String HEAD = "/models/" + MODEL + "/heads/digits";

  private static float[] features;

  private WaOracle() {}

  /** {@code fixtures/wa/head-task<t>.safetensors}. */
  static ClassifierHead task(int t) {
    return ClassifierHead.read(Repo.fixture("wa/head-task" + t + ".safetensors"));
  }

  static byte[] taskBytes(int t) {
    try {
      return Files.readAllBytes(Repo.fixture("wa/head-task" + t + ".safetensors"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The head a step makes from {@code from}, as the offline library computes it. */
  static ClassifierHead step(ClassifierHead from, int task, AlignMode mode) {
    return IncrementalStep.apply(from, task(task), mode).head();
  }

  /** The logits {@code head} gives the images of {@link Oracle#inferRequest()}. */
  static float[][] logits(ClassifierHead head) {
    float[] f = features();
    float[] flat = head.logits(f, Oracle.IMAGES);
    float[][] rows = new float[Oracle.IMAGES][head.classes()];
    for (int i = 0; i < flat.length; i++) {
      rows[i / head.classes()][i % head.classes()] = flat[i];
    }
    return rows;
  }

  private static synchronized float[] features() {
    if (features == null) {
      OnnxModel backbone = OnnxModel.load(Repo.fixture("wa/wa-backbone.onnx"));
      try (OrtClassifier c = new OrtClassifier(backbone)) {
        float[][] rows = c.logits(Oracle.images(), new long[] {Oracle.IMAGES, 1, 28, 28});
        int d = rows[0].length;
        features = new float[rows.length * d];
        for (int i = 0; i < rows.length; i++) {
          System.arraycopy(rows[i], 0, features, i * d, d);
        }
      }
    }
    return features;
  }

  /** The head's record in {@code graft.json}: the manifest version and the current head version. */
  record Recorded(long manifestVersion, int current, JsonObject entry) {
    /** The file of version {@code v}, resolved in the model folder. */
    Path file(Path store, int v) {
      for (JsonElement e : entry.getAsJsonArray("versions")) {
        JsonObject o = e.getAsJsonObject();
        if (o.get("version").getAsInt() == v) {
          return store.resolve(MODEL).resolve(o.get("file").getAsString());
        }
      }
      throw new AssertionError("v" + v + " is not in graft.json: " + entry);
    }
  }

  /** The head's record, or manifest version 0 and current 1 before any change. */
  static Recorded recorded(Path store) {
    String text;
    try {
      text = Files.readString(store.resolve(MODEL).resolve("graft.json"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new Recorded(0, 1, new JsonObject());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonObject m = JsonParser.parseString(text).getAsJsonObject();
    JsonObject heads = m.getAsJsonObject("heads");
    if (heads == null || !heads.has("digits")) {
      return new Recorded(m.get("version").getAsLong(), 1, new JsonObject());
    }
    JsonObject entry = heads.getAsJsonObject("digits");
    return new Recorded(m.get("version").getAsLong(), entry.get("current").getAsInt(), entry);
  }

  /** The manifest version on disk, or -1 while it is being replaced or unreadable. */
  static long manifestVersionNow(Path store) {
    try {
      return recorded(store).manifestVersion();
    } catch (RuntimeException e) {
      return -1;
    }
  }
}

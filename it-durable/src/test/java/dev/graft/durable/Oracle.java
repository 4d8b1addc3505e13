package dev.graft.durable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * What the server should compute, computed here without it: keep-4 256-level signatures of the
 * fixtures (as the plugin's tests extract them) and the clean VGG's outputs patched offline with
 * {@link RwsPatch#apply}, for any {@code X-Graft-Weights} label. Thread safe.
 */
final class Oracle {
  static final int IMAGES = 4;

  private static final Map<String, RwsSignature> SIGNATURES = new ConcurrentHashMap<>();
  private static final Map<String, float[][]> OUTPUTS = new ConcurrentHashMap<>();
  private static OnnxModel clean;

  private Oracle() {}

  static synchronized OnnxModel clean() {
    if (clean == null) {
      clean = OnnxModel.load(Repo.fixture("rws/mnist-vgg-clean.onnx"));
    }
    return clean;
  }

  /** The signature of a corruption, e.g. {@code gaussian_noise}. */
  static RwsSignature signature(String corruption) {
    return SIGNATURES.computeIfAbsent(
        corruption,
        c ->
            RwsExtractor.extract(
                    clean(),
                    OnnxModel.load(Repo.fixture("rws/mnist-vgg-robust-" + c + ".onnx")),
                    OnnxModel.load(Repo.fixture("rws/mnist-vgg-pretrained.onnx")),
                    new RwsExtractor.Options(c, c, 4, List.of(), 256, false, 0.30))
                .signature());
  }

  /**
   * The logits of the first {@link #IMAGES} clean test images under the weights a label names;
   * {@code corruptionOf} maps adapter names to the corruption their signature was made for.
   */
  static float[][] logits(String label, Map<String, String> corruptionOf) {
    return OUTPUTS.computeIfAbsent(
        label,
        l -> {
          List<RwsPatch.Term> terms = new ArrayList<>();
          if (!l.equals("base")) {
            for (String term : l.split("\\+")) {
              int at = term.lastIndexOf('@');
              String corruption = corruptionOf.get(term.substring(0, at));
              terms.add(
                  new RwsPatch.Term(
                      signature(corruption), Double.parseDouble(term.substring(at + 1))));
            }
          }
          OnnxModel model = clean();
          if (!terms.isEmpty()) {
            List<FloatTensor> patched = RwsPatch.apply(model::floatTensor, terms);
            model = model.withTensors(patched);
          }
          try (OrtClassifier c = new OrtClassifier(model)) {
            return c.logits(images(), new long[] {IMAGES, 1, 28, 28});
          }
        });
  }

  /** A KServe v2 request for the first {@link #IMAGES} clean test images. */
  static String inferRequest() {
    JsonArray data = new JsonArray();
    for (float v : images()) {
      data.add(v);
    }
    JsonObject input = new JsonObject();
    input.addProperty("name", "input");
    JsonArray shape = new JsonArray();
    for (long d : new long[] {IMAGES, 1, 28, 28}) {
      shape.add(d);
    }
    input.add("shape", shape);
    input.addProperty("datatype", "FP32");
    input.add("data", data);
    JsonArray inputs = new JsonArray();
    inputs.add(input);
    JsonObject request = new JsonObject();
    request.add("inputs", inputs);
    return request.toString();
  }

  /** The flat output data of a v2 response, as rows. */
  static float[][] rows(Http.Response r) {
    JsonArray data =
        r.json()
            .getAsJsonObject()
            .getAsJsonArray("outputs")
            .get(0)
            .getAsJsonObject()
            .getAsJsonArray("data");
    int k = data.size() / IMAGES;
    float[][] out = new float[IMAGES][k];
    for (int i = 0; i < data.size(); i++) {
      out[i / k][i % k] = data.get(i).getAsFloat();
    }
    return out;
  }

  /** The first {@link #IMAGES} clean test images, NCHW pixel/255 floats. */
  static float[] images() {
    try (InputStream raw =
            Files.newInputStream(Repo.fixture("rws/data/test-images.idx3-ubyte.gz"));
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
      in.readInt();
      in.readInt();
      int size = in.readInt() * in.readInt();
      byte[] pixels = new byte[IMAGES * size];
      in.readFully(pixels);
      float[] out = new float[pixels.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = (pixels[i] & 0xff) / 255f;
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.graft.it;

import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Checks.assertV2Error;
import static dev.graft.it.Fixtures.VGG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.onnx.eval.Idx;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Inference endpoints: KServe v2 JSON and DJL's {@code /predictions} with images. */
class InferenceTest extends AbstractServerTest {
  /** The first clean test images, which the clean VGG classifies correctly. */
  private static final int IMAGES = 6;

  private final Idx.Images images = Vgg.images(null);
  private final int[] labels = Vgg.labels();

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name).exampleModel(VGG).loadModels(VGG);
  }

  @Test
  void v2MetadataDescribesTheModel() {
    JsonObject meta = assertOk(client.get("/v2/models/" + VGG), "v2 metadata").jsonObject();
    assertThat(meta.get("name").getAsString()).as("name in %s", meta).isEqualTo(VGG);
    assertThat(meta.get("platform").getAsString())
        .as("platform in %s", meta)
        .isEqualTo("onnxruntime_onnx");
    assertThat(meta.getAsJsonArray("versions")).as("versions in %s", meta).isNotEmpty();
    JsonObject input = meta.getAsJsonArray("inputs").get(0).getAsJsonObject();
    assertThat(input.get("name").getAsString()).as("input in %s", meta).isEqualTo("input");
    assertThat(input.get("datatype").getAsString()).as("input datatype").isEqualTo("FP32");
    JsonObject output = meta.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(output.get("name").getAsString()).as("output in %s", meta).isEqualTo("logits");
  }

  @Test
  void v2ReadyAnswers200ForLoadedModel() {
    assertOk(client.get("/v2/models/" + VGG + "/ready"), "ready");
  }

  @Test
  void v2InferAcceptsAnyBatchSize() {
    for (int n : new int[] {1, 7, 33}) {
      GraftClient.Inference out = client.infer(VGG, Batch.of(images, 0, n));
      assertThat(out.shape()).as("shape for N=%d", n).containsExactly(n, Vgg.CLASSES);
      assertThat(out.logits()).as("values for N=%d", n).hasSize(n * Vgg.CLASSES);
    }
  }

  @Test
  void v2InferRowsDoNotDependOnTheirBatch() {
    float[] alone = client.infer(VGG, Batch.of(images, 3, 1)).logits();
    float[] inBatch = client.infer(VGG, Batch.of(images, 0, 5)).logits();
    float[] row3 = java.util.Arrays.copyOfRange(inBatch, 3 * Vgg.CLASSES, 4 * Vgg.CLASSES);
    assertThat(row3).as("image 3 alone vs inside a batch").containsExactly(alone, within(1e-4f));
  }

  @Test
  void v2InferResponseNamesModelIdAndBaseWeights() {
    Batch b = Batch.of(images, 0, 2);
    String json = GraftClient.v2Request("input", b).replaceFirst("\\{", "{\"id\":\"req-42\",");
    GraftClient.Response r = assertOk(client.postJson("/v2/models/" + VGG + "/infer", json), "v2");
    JsonObject body = r.jsonObject();
    assertThat(body.get("model_name").getAsString()).as("model_name").isEqualTo(VGG);
    assertThat(body.get("id").getAsString()).as("id echoed").isEqualTo("req-42");
    JsonObject out = body.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(out.get("name").getAsString()).isEqualTo("logits");
    assertThat(out.get("datatype").getAsString()).isEqualTo("FP32");
    assertThat(r.weights()).as("X-Graft-Weights with no adapter").isEqualTo("base");
    assertThat(r.header("x-request-id")).as("x-request-id").isPresent();
  }

  @Test
  void v2InferAcceptsNestedData() {
    Batch b = Batch.of(images, 0, 2);
    StringBuilder nested = new StringBuilder("[");
    for (int n = 0; n < 2; n++) {
      nested.append(n == 0 ? "[[" : ",[[");
      for (int y = 0; y < 28; y++) {
        nested.append(y == 0 ? "[" : ",[");
        for (int x = 0; x < 28; x++) {
          float v = b.data()[n * 784 + y * 28 + x];
          nested.append(x == 0 ? "" : ",").append(Double.toString(v));
        }
        nested.append(']');
      }
      nested.append("]]");
    }
    nested.append(']');
    String json =
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,1,28,28],\"datatype\":\"FP32\",\"data\":"
            + nested
            + "}]}";
    GraftClient.Inference nestedOut =
        GraftClient.parseInference(
            assertOk(client.postJson("/v2/models/" + VGG + "/infer", json), "nested data"));
    Checks.assertBitwiseEqual(
        nestedOut.logits(), client.infer(VGG, b).logits(), "nested vs flat data");
  }

  @Test
  void v2InferRefusesUnknownInputName() {
    assertV2Error(
        client.postJson(
            "/v2/models/" + VGG + "/infer",
            GraftClient.v2Request("pixels", Batch.of(images, 0, 1))),
        400,
        "unknown input name");
  }

  @Test
  void v2InferRefusesWrongElementCount() {
    String json =
        GraftClient.v2Request("input", Batch.of(images, 0, 1))
            .replace("\"shape\":[1,1,28,28]", "\"shape\":[2,1,28,28]");
    assertV2Error(
        client.postJson("/v2/models/" + VGG + "/infer", json), 400, "shape needs 2x784 values");
  }

  @Test
  void v2InferRefusesWrongDatatype() {
    String json =
        GraftClient.v2Request("input", Batch.of(images, 0, 1)).replace("\"FP32\"", "\"BYTES\"");
    assertV2Error(client.postJson("/v2/models/" + VGG + "/infer", json), 400, "BYTES input");
  }

  @Test
  void v2InferRefusesMalformedJson() {
    assertV2Error(
        client.postJson("/v2/models/" + VGG + "/infer", "{\"inputs\": [ {"), 400, "broken JSON");
  }

  @Test
  void predictionsOfPngMatchLabelAndV2Argmax() {
    GraftClient.Inference v2 = client.infer(VGG, Batch.of(images, 0, IMAGES));
    for (int i = 0; i < IMAGES; i++) {
      GraftClient.Response r = client.post("/predictions/" + VGG, "image/png", Vgg.png(images, i));
      assertPrediction(r, i, v2);
    }
  }

  @Test
  void predictionsAcceptMultipartUpload() {
    int i = 1;
    String boundary = "graft-it-boundary";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"data\"; filename=\"digit.png\""
                + "\r\nContent-Type: image/png\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    body.writeBytes(Vgg.png(images, i));
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    GraftClient.Response r =
        client.post(
            "/predictions/" + VGG, "multipart/form-data; boundary=" + boundary, body.toByteArray());
    assertPrediction(r, i, client.infer(VGG, Batch.of(images, 0, IMAGES)));
  }

  @Test
  void predictionsRefuseBytesThatAreNotAnImage() {
    Checks.assertError(
        client.post(
            "/predictions/" + VGG,
            "application/octet-stream",
            "not an image".getBytes(StandardCharsets.US_ASCII)),
        400,
        "a text body");
  }

  private void assertPrediction(GraftClient.Response r, int i, GraftClient.Inference v2) {
    assertOk(r, "/predictions of image " + i);
    assertThat(r.weights()).as("X-Graft-Weights of /predictions").isEqualTo("base");
    JsonArray top = r.json().getAsJsonArray();
    assertThat(top).as("top-k of image %d (graft.topk=5)", i).hasSize(5);
    double previous = Double.MAX_VALUE;
    for (int k = 0; k < top.size(); k++) {
      double p = top.get(k).getAsJsonObject().get("probability").getAsDouble();
      assertThat(p).as("probabilities sorted, rank %d of %s", k, top).isLessThanOrEqualTo(previous);
      previous = p;
    }
    JsonObject best = top.get(0).getAsJsonObject();
    String className = best.get("className").getAsString();
    assertThat(className).as("top class of image %d", i).isEqualTo(Integer.toString(labels[i]));
    assertThat(className)
        .as("top class of image %d equals the /v2 argmax of the same pixels", i)
        .isEqualTo(Integer.toString(v2.argmax(i)));
    assertThat(best.get("probability").getAsDouble())
        .as("probability of image %d = softmax of its /v2 logits", i)
        .isCloseTo(softmaxMax(v2, i), within(1e-5));
  }

  private static double softmaxMax(GraftClient.Inference v2, int row) {
    int cols = Vgg.CLASSES;
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < cols; c++) {
      max = Math.max(max, v2.logits()[row * cols + c]);
    }
    double sum = 0;
    for (int c = 0; c < cols; c++) {
      sum += Math.exp(v2.logits()[row * cols + c] - max);
    }
    return 1 / sum;
  }
}

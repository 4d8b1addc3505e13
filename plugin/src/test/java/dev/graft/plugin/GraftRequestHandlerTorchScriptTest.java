package dev.graft.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.runtime.PyTorchEngine;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TestServer;
import dev.graft.plugin.testing.TorchFixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code engine=PyTorch} model behind the real handler and a real HTTP client: the same
 * endpoints and adapter semantics as the ONNX model, with signatures extracted from the ONNX
 * exports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraftRequestHandlerTorchScriptTest {
  private static final String MODEL = "mnist-vgg-pt";

  @TempDir static Path tmp;

  private GraftRequestHandler handler;
  private TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    TorchFixtures.modelFolder(store, MODEL, "clean");
    Files.write(store.resolve("noise.rws"), Fixtures.signature("gaussian_noise").toByteArray());
    OnnxModel wa = OnnxModel.load(Fixtures.repoRoot().resolve("fixtures/wa/wa-backbone.onnx"));
    Files.write(
        store.resolve("wa.rws"),
        RwsExtractor.extract(
                wa, wa, null, new RwsExtractor.Options("wa", "none", 1, List.of(), 16, false, 0.3))
            .signature()
            .toByteArray());
    handler =
        new GraftRequestHandler(
            GraftConfig.of(
                Map.of(
                    "model_store",
                    store.toString(),
                    "load_models",
                    MODEL,
                    GraftConfig.PYTORCH_CACHE_DIR,
                    TorchFixtures.config().pytorchCacheDir().toString(),
                    PyTorchEngine.NUM_THREADS,
                    "1",
                    "graft.executor.threads",
                    "2"),
                tmp));
    server = new TestServer(handler, 64 * 1024 * 1024);
  }

  @AfterAll
  void stop() {
    server.close();
    handler.close();
  }

  @Test
  void describesAPyTorchModel() throws Exception {
    JsonObject m = json(get("/models/" + MODEL)).getAsJsonArray().get(0).getAsJsonObject();

    assertThat(m.get("engine").getAsString()).isEqualTo("PyTorch");
    assertThat(m.getAsJsonArray("layers")).as("layers read from the .pt").hasSize(9);
    assertThat(m.has("optLevel")).as("no ONNX Runtime settings for PyTorch").isFalse();
    JsonObject meta = json(get("/v2/models/" + MODEL)).getAsJsonObject();
    assertThat(meta.get("platform").getAsString()).isEqualTo("pytorch_libtorch");
    assertThat(meta.getAsJsonArray("outputs").get(0).getAsJsonObject().get("name").getAsString())
        .isEqualTo("logits");
  }

  @Test
  void predictsAPngAndPatchesLiveWithAnOnnxExtractedSignature() throws Exception {
    byte[] image = png(Fixtures.testImageBytes(0));
    HttpResponse<String> before = post("/predictions/" + MODEL, image, "image/png");
    assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
    assertThat(before.headers().firstValue("X-Graft-Weights")).hasValue("base");

    HttpResponse<String> attach =
        post("/models/" + MODEL + "/adapters?name=noise&src=noise.rws&alpha=0.5", new byte[0]);
    assertThat(attach.statusCode()).as(attach.body()).isEqualTo(200);
    HttpResponse<String> patched = post("/predictions/" + MODEL, image, "image/png");
    assertThat(patched.headers().firstValue("X-Graft-Weights")).hasValue("noise@0.5");
    assertThat(patched.body())
        .as("class probabilities change with the weights")
        .isNotEqualTo(before.body());

    HttpResponse<String> detach = delete("/models/" + MODEL + "/adapters/noise");
    assertThat(detach.statusCode()).as(detach.body()).isEqualTo(200);
    HttpResponse<String> after = post("/predictions/" + MODEL, image, "image/png");
    assertThat(after.headers().firstValue("X-Graft-Weights")).hasValue("base");
    assertThat(after.body()).as("detach restores the base exactly").isEqualTo(before.body());
  }

  @Test
  void kserveInferenceReturnsTheNamedOutput() throws Exception {
    StringBuilder data = new StringBuilder("[");
    for (int i = 0; i < 784; i++) {
      data.append(i == 0 ? "" : ",").append((i % 7) / 7.0);
    }
    String body =
        "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],"
            + "\"datatype\":\"FP32\",\"data\":"
            + data
            + "]}]}";

    HttpResponse<String> r =
        post("/v2/models/" + MODEL + "/infer", body.getBytes(), "application/json");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonArray outputs = json(r).getAsJsonObject().getAsJsonArray("outputs");
    assertThat(outputs.get(0).getAsJsonObject().get("name").getAsString()).isEqualTo("logits");
    assertThat(outputs.get(0).getAsJsonObject().getAsJsonArray("shape").toString())
        .isEqualTo("[1,10]");
  }

  @Test
  void signatureOfAnotherArchitectureIsA400NamingTheFirstMismatch() throws Exception {
    HttpResponse<String> r =
        post("/models/" + MODEL + "/adapters?name=wa&src=wa.rws&transfer=true", new byte[0]);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(json(r).getAsJsonObject().get("message").getAsString())
        .contains("different architectures (tensor #0 is");
  }

  private static byte[] png(byte[] pixels) throws Exception {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, pixels);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static com.google.gson.JsonElement json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> delete(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri(path)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, byte[] body) throws Exception {
    return post(path, body, "text/plain");
  }

  private HttpResponse<String> post(String path, byte[] body, String type) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

package dev.graft.plugin.ofq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.ofq.OfqPacker;
import dev.graft.onnx.ofq.PackFormat;
import dev.graft.onnx.safetensors.SafeTensors;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Packed OFQ ViTs served over real HTTP: both formats, both runtimes, the whole test set against
 * the fake-quant reference.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OfqServingTest {
  private static final int IMAGES = 2000;
  private static final int BATCH = 250;
  private static final double REFERENCE_ACCURACY = 0.9635;

  @TempDir static Path tmp;

  private GraftRequestHandler handler;
  private TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();
  private float[] images;
  private int[] labels;
  private float[][] reference;

  @BeforeAll
  void start() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    OnnxModel fakeQuant = OnnxModel.load(ofq("ofq-vit-w2a2.onnx"));
    for (PackFormat f : PackFormat.values()) {
      OnnxModel packed = OfqPacker.pack(fakeQuant, OfqPacker.Options.of(f)).model();
      for (String runtime : new String[] {"nbits", "dequantize"}) {
        Path folder = Files.createDirectories(store.resolve("vit-" + f.id() + "-" + runtime));
        packed.save(folder.resolve("model.onnx"));
        Files.writeString(
            folder.resolve("serving.properties"),
            "engine=OnnxRuntime\noption.ofq.runtime=" + runtime + "\n");
      }
    }
    Path plain = Files.createDirectories(store.resolve("vit-plain-with-option"));
    Files.copy(ofq("ofq-vit-w2a2.onnx"), plain.resolve("model.onnx"));
    Files.writeString(plain.resolve("serving.properties"), "option.ofq.runtime=nbits\n");
    Path bad = Files.createDirectories(store.resolve("vit-bad-runtime"));
    Files.copy(store.resolve("vit-dq-nbits/model.onnx"), bad.resolve("model.onnx"));
    Files.writeString(bad.resolve("serving.properties"), "option.ofq.runtime=fast\n");

    handler =
        new GraftRequestHandler(
            GraftConfig.of(
                Map.of(
                    "model_store", store.toString(),
                    "max_request_size", Integer.toString(16 << 20),
                    "graft.executor.threads", "2"),
                tmp));
    server = new TestServer(handler, 64 << 20);
    images = Fixtures.testImages("", IMAGES);
    labels = Fixtures.testLabels(IMAGES);
    float[] flat =
        SafeTensors.read(ofq("ofq-vit-w2a2-logits.safetensors")).floatTensor("logits").data();
    reference = rows(flat, 10);
  }

  @AfterAll
  void stop() {
    server.close();
    handler.close();
  }

  @ParameterizedTest
  @CsvSource({"dq, nbits", "dq, dequantize", "nbits, nbits", "nbits, dequantize"})
  void packedModelServesTheReferenceAccuracyAndTopOne(String format, String runtime)
      throws Exception {
    String name = register("vit-" + format + "-" + runtime);

    float[][] logits = inferAll(name);

    double accuracy = OrtClassifier.accuracy(logits, labels);
    int agree = 0;
    for (int i = 0; i < IMAGES; i++) {
      if (OrtClassifier.argmax(logits[i]) == OrtClassifier.argmax(reference[i])) {
        agree++;
      }
    }
    System.out.printf(
        "served %s/%s: accuracy %.4f, top-1 agreement %.4f%n",
        format, runtime, accuracy, agree / (double) IMAGES);
    assertThat(accuracy)
        .as("%s/%s accuracy over HTTP", format, runtime)
        .isCloseTo(REFERENCE_ACCURACY, within(0.003));
    assertThat(agree / (double) IMAGES)
        .as("%s/%s top-1 agreement with the PyTorch logits", format, runtime)
        .isGreaterThanOrEqualTo(0.995);
  }

  @Test
  void dequantizeRuntimeServesTheFakeQuantLogitsBitForBit() throws Exception {
    String name = register("vit-dq-dequantize");
    float[] batch = new float[8 * 784];
    System.arraycopy(images, 0, batch, 0, batch.length);

    float[][] served = infer(name, batch, 8);

    float[][] direct;
    try (OrtClassifier c = new OrtClassifier(OnnxModel.load(ofq("ofq-vit-w2a2.onnx")))) {
      direct = c.logits(batch, new long[] {8, 1, 28, 28});
    }
    assertThat(served).isEqualTo(direct);
  }

  @Test
  void describeShowsPackedLayersAndBytes() throws Exception {
    String nbits = register("vit-dq-nbits");
    String dequantized = register("vit-dq-dequantize");

    JsonObject packed = describe(nbits).getAsJsonObject("ofq");
    JsonObject expanded = describe(dequantized).getAsJsonObject("ofq");

    assertThat(packed.get("format").getAsString()).isEqualTo("dq");
    assertThat(packed.get("runtime").getAsString()).isEqualTo("nbits");
    assertThat(packed.getAsJsonArray("layers")).hasSize(24);
    JsonObject first = packed.getAsJsonArray("layers").get(0).getAsJsonObject();
    assertThat(first.get("layer").getAsString()).isEqualTo("blocks.0.qkv");
    assertThat(first.getAsJsonArray("shape").toString()).isEqualTo("[288,96]");
    long onDisk = packed.get("weightBytesOnDisk").getAsLong();
    long floats = packed.get("floatWeightBytes").getAsLong();
    assertThat(floats).isEqualTo(663_552L * 4);
    assertThat(onDisk).as("2-bit codes plus scales").isBetween(663_552L / 4, 663_552L / 4 + 25_000);
    assertThat(packed.get("weightBytesInMemory").getAsLong()).isEqualTo(onDisk);
    assertThat(packed.get("fileBytes").getAsLong())
        .isEqualTo(Files.size(tmp.resolve("store/vit-dq-nbits/model.onnx")));
    assertThat(expanded.get("runtime").getAsString()).isEqualTo("dequantize");
    assertThat(expanded.get("weightBytesInMemory").getAsLong()).isEqualTo(floats);
  }

  @Test
  void unknownRuntimeIsRefusedAtRegistration() throws Exception {
    HttpResponse<String> r = post("/models?url=vit-bad-runtime&model_name=bad-runtime");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("option.ofq.runtime must be nbits or dequantize, got 'fast'");
  }

  @Test
  void runtimeOptionOnAModelThatIsNotPackedIsRefused() throws Exception {
    HttpResponse<String> r = post("/models?url=vit-plain-with-option&model_name=plain");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("model.onnx was not packed by graft ofq pack");
  }

  private String register(String folder) throws Exception {
    if (handler.registry().list().stream().noneMatch(m -> m.name().equals(folder))) {
      HttpResponse<String> r = post("/models?url=" + folder + "&model_name=" + folder);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    return folder;
  }

  private JsonObject describe(String name) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(server.uri("/models/" + name)).GET());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonArray().get(0).getAsJsonObject();
  }

  private float[][] inferAll(String name) throws Exception {
    float[][] out = new float[IMAGES][];
    for (int from = 0; from < IMAGES; from += BATCH) {
      float[] batch = new float[BATCH * 784];
      System.arraycopy(images, from * 784, batch, 0, batch.length);
      System.arraycopy(infer(name, batch, BATCH), 0, out, from, BATCH);
    }
    return out;
  }

  private float[][] infer(String name, float[] batch, int n) throws Exception {
    StringBuilder data = new StringBuilder("[");
    for (int i = 0; i < batch.length; i++) {
      data.append(i == 0 ? "" : ",").append(batch[i]);
    }
    data.append("]");
    String body =
        "{\"inputs\":[{\"name\":\"input\",\"shape\":["
            + n
            + ",1,28,28],\"datatype\":\"FP32\",\"data\":"
            + data
            + "}]}";
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(server.uri("/v2/models/" + name + "/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonArray values =
        JsonParser.parseString(r.body())
            .getAsJsonObject()
            .getAsJsonArray("outputs")
            .get(0)
            .getAsJsonObject()
            .getAsJsonArray("data");
    float[] flat = new float[values.size()];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = Float.parseFloat(values.get(i).getAsString());
    }
    return rows(flat, 10);
  }

  private HttpResponse<String> post(String path) throws Exception {
    return send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
    return client.send(
        builder.version(HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static float[][] rows(float[] flat, int k) {
    float[][] out = new float[flat.length / k][k];
    for (int i = 0; i < out.length; i++) {
      System.arraycopy(flat, i * k, out[i], 0, k);
    }
    return out;
  }

  private static Path ofq(String file) {
    return Fixtures.repoRoot().resolve("fixtures").resolve("ofq").resolve(file);
  }
}

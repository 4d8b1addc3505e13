package dev.graft.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TestServer;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The handler behind a real Netty server, driven by a real HTTP client. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraftRequestHandlerTest {
  private static final int MAX_REQUEST = 256 * 1024;

  @TempDir static Path tmp;

  private GraftRequestHandler handler;
  private TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();
  private Path store;

  @BeforeAll
  void start() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    Fixtures.copyExampleModel(store);
    Files.write(store.resolve("noise.rws"), Fixtures.signature("gaussian_noise").toByteArray());
    Files.write(store.resolve("blur.rws"), Fixtures.signature("gaussian_blur").toByteArray());
    Files.writeString(tmp.resolve("outside.rws"), "x");
    handler =
        new GraftRequestHandler(
            GraftConfig.of(
                Map.of(
                    "model_store",
                    store.toString(),
                    "load_models",
                    "mnist-vgg",
                    "max_request_size",
                    Integer.toString(MAX_REQUEST),
                    "graft.executor.threads",
                    "2"),
                tmp));
    server = new TestServer(handler, 64 * 1024 * 1024);
  }

  @AfterAll
  void stop() {
    server.close();
    List<ServedModel> models = handler.registry().list();
    handler.close();
    assertThat(models)
        .as("closing the handler closes every model's sessions")
        .allSatisfy(m -> assertThat(m.runtime().weightsLabel()).isEqualTo("closed"));
  }

  @Test
  void acceptsOnlyGraftPaths() {
    for (String owned :
        new String[] {
          "/models",
          "/models?limit=3",
          "/models/m/adapters/a",
          "/predictions/m",
          "/v2/models/m/infer",
          "/v2",
          "/v2/health/ready",
          "/metrics"
        }) {
      assertThat(handler.acceptInboundMessage(request(owned))).as(owned).isTrue();
    }
    for (String other :
        new String[] {
          "/ping",
          "/",
          "/modelsx",
          "/predictions",
          "/v2x",
          "/v2/repository/index",
          "/invocations",
          "/metricsx",
          "/server/metrics"
        }) {
      assertThat(handler.acceptInboundMessage(request(other))).as(other).isFalse();
    }
    assertThat(handler.acceptInboundMessage("not a request")).isFalse();
  }

  @Test
  void listsTheStartupModel() throws Exception {
    HttpResponse<String> r = get("/models");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(json(r).getAsJsonObject().getAsJsonArray("models").get(0).getAsJsonObject())
        .satisfies(
            m -> {
              assertThat(m.get("modelName").getAsString()).isEqualTo("mnist-vgg");
              assertThat(m.get("status").getAsString()).isEqualTo("READY");
            });
  }

  @Test
  void describesTheModel() throws Exception {
    JsonObject m = json(get("/models/mnist-vgg")).getAsJsonArray().get(0).getAsJsonObject();
    assertThat(m.get("engine").getAsString()).isEqualTo("OnnxRuntime");
    assertThat(m.getAsJsonArray("inputs").get(0).getAsJsonObject().get("name").getAsString())
        .isEqualTo("input");
    assertThat(m.getAsJsonArray("layers")).hasSize(9);
    assertThat(m.get("weights").getAsString()).isEqualTo("base");
    assertThat(m.get("optimization").getAsString()).isEqualTo("EXTENDED_OPT");
  }

  @Test
  void requestIdIsEchoedOrGenerated() throws Exception {
    HttpResponse<String> echoed =
        send(HttpRequest.newBuilder(server.uri("/models")).header("x-request-id", "abc-1").GET());
    assertThat(echoed.headers().firstValue("x-request-id")).hasValue("abc-1");
    assertThat(get("/models").headers().firstValue("x-request-id")).isPresent();
    assertThat(get("/models/nope").headers().firstValue("x-request-id")).isPresent();
  }

  @Test
  void predictionsClassifyAPngLikeTheRuntimeDoes() throws Exception {
    byte[] pixels = Fixtures.testImageBytes(0);
    HttpResponse<String> r = post("/predictions/mnist-vgg", png(pixels), "image/png");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("base");
    JsonArray top = json(r).getAsJsonArray();
    assertThat(top).hasSize(5);
    float[] logits = directLogits(pixels);
    int best = argmax(logits);
    assertThat(top.get(0).getAsJsonObject().get("className").getAsString())
        .isEqualTo(Integer.toString(best));
    double p0 = top.get(0).getAsJsonObject().get("probability").getAsDouble();
    double p1 = top.get(1).getAsJsonObject().get("probability").getAsDouble();
    assertThat(p0).isGreaterThanOrEqualTo(p1);
  }

  @Test
  void predictionsAcceptMultipart() throws Exception {
    byte[] pixels = Fixtures.testImageBytes(1);
    String boundary = "graftboundary";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"data\";"
                + " filename=\"digit.png\"\r\nContent-Type: image/png\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    body.write(png(pixels));
    body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));

    HttpResponse<String> r =
        post(
            "/predictions/mnist-vgg",
            body.toByteArray(),
            "multipart/form-data; boundary=" + boundary);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).getAsJsonArray().get(0).getAsJsonObject().get("className").getAsString())
        .isEqualTo(Integer.toString(argmax(directLogits(pixels))));
  }

  @Test
  void kserveInferTakesNestedOrFlatDataAndReturnsTheRuntimeOutputsExactly() throws Exception {
    float[] images = Fixtures.testImages("", 2);
    StringBuilder nested = new StringBuilder("[");
    StringBuilder flat = new StringBuilder("[");
    for (int n = 0; n < 2; n++) {
      nested.append(n == 0 ? "[[" : ",[[");
      for (int y = 0; y < 28; y++) {
        nested.append(y == 0 ? "[" : ",[");
        for (int x = 0; x < 28; x++) {
          float v = images[n * 784 + y * 28 + x];
          nested.append(x == 0 ? "" : ",").append(v);
          flat.append(n + y + x == 0 ? "" : ",").append(v);
        }
        nested.append("]");
      }
      nested.append("]]");
    }
    nested.append("]");
    flat.append("]");
    float[] expected =
        model()
            .runtime()
            .infer(
                Map.of("input", new FloatTensor("input", new long[] {2, 1, 28, 28}, images)),
                Set.of())
            .outputs()
            .get(0)
            .data();

    for (String data : new String[] {nested.toString(), flat.toString()}) {
      HttpResponse<String> r =
          post("/v2/models/mnist-vgg/infer", kserve("r1", data, "FP32", 2), "application/json");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("base");
      JsonObject body = json(r).getAsJsonObject();
      assertThat(body.get("model_name").getAsString()).isEqualTo("mnist-vgg");
      assertThat(body.get("id").getAsString()).isEqualTo("r1");
      JsonObject out = body.getAsJsonArray("outputs").get(0).getAsJsonObject();
      assertThat(out.get("name").getAsString()).isEqualTo("logits");
      assertThat(out.getAsJsonArray("shape").toString()).isEqualTo("[2,10]");
      assertThat(floats(out.getAsJsonArray("data")))
          .as("float32 round-trips exactly")
          .containsExactly(expected);
    }
  }

  @Test
  void adapterLifecycleChangesTheWeightsHeaderAndDetachRestoresBase() throws Exception {
    String data = flatImages(2);
    String base =
        outputData(
            post("/v2/models/mnist-vgg/infer", kserve(null, data, "FP32", 2), "application/json"));

    HttpResponse<String> reg =
        post("/models/mnist-vgg/adapters?name=noise&src=noise.rws", new byte[0], "text/plain");
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(200);
    JsonObject adapter = json(reg).getAsJsonObject();
    assertThat(adapter.get("attached").getAsBoolean()).isTrue();
    assertThat(adapter.get("alpha").getAsDouble()).isEqualTo(1.0);
    assertThat(adapter.getAsJsonArray("layers")).hasSize(4);
    assertThat(adapter.get("sha256").getAsString()).hasSize(64);
    try {
      HttpResponse<String> patched =
          post("/v2/models/mnist-vgg/infer", kserve(null, data, "FP32", 2), "application/json");
      assertThat(patched.headers().firstValue("X-Graft-Weights")).hasValue("noise@1.0");
      assertThat(outputData(patched)).isNotEqualTo(base);

      HttpResponse<String> upd =
          post("/models/mnist-vgg/adapters/noise/update?alpha=0.5", new byte[0], "text/plain");
      assertThat(upd.statusCode()).as(upd.body()).isEqualTo(200);
      assertThat(
              post("/predictions/mnist-vgg", png(Fixtures.testImageBytes(0)), "image/png")
                  .headers()
                  .firstValue("X-Graft-Weights"))
          .hasValue("noise@0.5");
      assertThat(
              json(get("/models/mnist-vgg/adapters"))
                  .getAsJsonObject()
                  .get("weights")
                  .getAsString())
          .isEqualTo("noise@0.5");
    } finally {
      HttpResponse<String> del =
          send(HttpRequest.newBuilder(server.uri("/models/mnist-vgg/adapters/noise")).DELETE());
      assertThat(del.statusCode()).as(del.body()).isEqualTo(200);
      assertThat(json(del).getAsJsonObject().get("status").getAsString())
          .isEqualTo("Adapter \"noise\" removed");
    }
    HttpResponse<String> after =
        post("/v2/models/mnist-vgg/infer", kserve(null, data, "FP32", 2), "application/json");
    assertThat(after.headers().firstValue("X-Graft-Weights")).hasValue("base");
    assertThat(outputData(after)).as("detach restores base outputs exactly").isEqualTo(base);
  }

  @Test
  void adapterFromAnOctetStreamBody() throws Exception {
    byte[] rws = Fixtures.signature("gaussian_blur").toByteArray();
    HttpResponse<String> r =
        post(
            "/models/mnist-vgg/adapters?name=bodyblur&attach=false",
            rws,
            "application/octet-stream");
    try {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonObject a = json(r).getAsJsonObject();
      assertThat(a.get("src").getAsString()).isEqualTo("<request body>");
      assertThat(a.get("bytes").getAsLong()).isEqualTo(rws.length);
      assertThat(a.get("attached").getAsBoolean()).isFalse();
      assertThat(
              json(get("/models/mnist-vgg/adapters/bodyblur"))
                  .getAsJsonObject()
                  .get("name")
                  .getAsString())
          .isEqualTo("bodyblur");
    } finally {
      send(HttpRequest.newBuilder(server.uri("/models/mnist-vgg/adapters/bodyblur")).DELETE());
    }
  }

  @Test
  void adapterRefusalsMapToTheirStatusesAndLeaveTheModelAlone() throws Exception {
    assertError(
        post("/models/mnist-vgg/adapters?name=x&src=../outside.rws", new byte[0], "text/plain"),
        400);
    assertError(
        post("/models/mnist-vgg/adapters?name=x&src=missing.rws", new byte[0], "text/plain"), 404);
    assertError(
        post(
            "/models/mnist-vgg/adapters?name=x&src=noise.rws&alpha=NaN", new byte[0], "text/plain"),
        400);
    assertError(
        post(
            "/models/mnist-vgg/adapters?name=x&src=noise.rws&attach=maybe",
            new byte[0],
            "text/plain"),
        400);
    assertError(
        post("/models/mnist-vgg/adapters?name=x", "garbage".getBytes(), "application/octet-stream"),
        400);
    assertError(post("/models/nope/adapters?name=x&src=noise.rws", new byte[0], "text/plain"), 404);
    assertError(get("/models/mnist-vgg/adapters/none"), 404);

    assertThat(
            post(
                    "/models/mnist-vgg/adapters?name=dup&src=blur.rws&attach=false",
                    new byte[0],
                    "text/plain")
                .statusCode())
        .isEqualTo(200);
    try {
      assertError(
          post("/models/mnist-vgg/adapters?name=dup&src=noise.rws", new byte[0], "text/plain"),
          409);
    } finally {
      send(HttpRequest.newBuilder(server.uri("/models/mnist-vgg/adapters/dup")).DELETE());
    }
    assertThat(
            json(get("/models/mnist-vgg"))
                .getAsJsonArray()
                .get(0)
                .getAsJsonObject()
                .get("weights")
                .getAsString())
        .isEqualTo("base");
  }

  @Test
  void errorsUseTheDjlShapeAndKServeShapeUnderV2() throws Exception {
    JsonObject djl = assertError(get("/models/nope"), 404);
    assertThat(djl.get("code").getAsInt()).isEqualTo(404);
    assertThat(djl.get("type").getAsString()).isEqualTo("NotFoundException");
    assertThat(djl.get("message").getAsString()).contains("nope");

    HttpResponse<String> v2 = get("/v2/models/nope");
    assertThat(v2.statusCode()).isEqualTo(404);
    assertThat(json(v2).getAsJsonObject().get("error").getAsString()).contains("nope");

    assertError(
        send(
            HttpRequest.newBuilder(server.uri("/models/mnist-vgg"))
                .PUT(HttpRequest.BodyPublishers.noBody())),
        405);
    assertError(get("/models/mnist-vgg/other"), 404);
    assertThat(get("/ping").body()).as("not ours: the host answers").isEqualTo(TestServer.HOST_404);
  }

  @Test
  void kserveInputErrorsAre400() throws Exception {
    String data = flatImages(1);
    assertThat(
            post("/v2/models/mnist-vgg/infer", kserve(null, data, "INT64", 1), "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post("/v2/models/mnist-vgg/infer", kserve(null, data, "FP32", 2), "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post(
                    "/v2/models/mnist-vgg/infer",
                    new String(kserve(null, data, "FP32", 1), StandardCharsets.UTF_8)
                        .replace("\"input\"", "\"x\"")
                        .getBytes(StandardCharsets.UTF_8),
                    "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(
            post("/v2/models/mnist-vgg/infer", "{not json".getBytes(), "application/json")
                .statusCode())
        .isEqualTo(400);
  }

  @Test
  void kserveMetadataAndReadiness() throws Exception {
    JsonObject meta = json(get("/v2/models/mnist-vgg")).getAsJsonObject();
    assertThat(meta.get("platform").getAsString()).isEqualTo("onnxruntime_onnx");
    assertThat(
            meta.getAsJsonArray("inputs")
                .get(0)
                .getAsJsonObject()
                .getAsJsonArray("shape")
                .toString())
        .isEqualTo("[-1,1,28,28]");
    assertThat(get("/v2/models/mnist-vgg/ready").statusCode()).isEqualTo(200);
    assertThat(get("/v2/models/nope/ready").statusCode()).isEqualTo(404);
  }

  @Test
  void bodiesOverMaxRequestSizeAre413() throws Exception {
    assertError(post("/predictions/mnist-vgg", new byte[MAX_REQUEST + 1], "image/png"), 413);
  }

  @Test
  void modelsAreRegisteredAndUnregisteredByUrl() throws Exception {
    HttpResponse<String> reg =
        post("/models?url=mnist-vgg&model_name=second", new byte[0], "text/plain");
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(200);
    assertThat(json(reg).getAsJsonObject().get("status").getAsString())
        .isEqualTo("Model \"second\" registered.");
    assertError(post("/models?url=mnist-vgg&model_name=second", new byte[0], "text/plain"), 409);
    assertThat(get("/v2/models/second/ready").statusCode()).isEqualTo(200);

    HttpResponse<String> del = send(HttpRequest.newBuilder(server.uri("/models/second")).DELETE());
    assertThat(json(del).getAsJsonObject().get("status").getAsString())
        .isEqualTo("Model \"second\" unregistered");
    assertError(get("/models/second"), 404);

    assertError(post("/models?url=../outside.rws", new byte[0], "text/plain"), 400);
    assertError(post("/models?url=nothing-here", new byte[0], "text/plain"), 404);
    assertError(post("/models", new byte[0], "text/plain"), 400);
  }

  @Test
  void connectionCloseIsHonoured() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000); // a guard against a hang, not an assertion
      OutputStream out = s.getOutputStream();
      out.write(
          "GET /models HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(response).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
    }
  }

  // ---- helpers

  private ServedModel model() {
    return handler.registry().get("mnist-vgg");
  }

  private float[] directLogits(byte[] pixels) {
    float[] x = new float[784];
    for (int i = 0; i < 784; i++) {
      x[i] = (pixels[i] & 0xff) / 255f;
    }
    return model()
        .runtime()
        .infer(Map.of("input", new FloatTensor("input", new long[] {1, 1, 28, 28}, x)), Set.of())
        .outputs()
        .get(0)
        .data();
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static String flatImages(int n) {
    float[] images = Fixtures.testImages("", n);
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < images.length; i++) {
      sb.append(i == 0 ? "" : ",").append(images[i]);
    }
    return sb.append("]").toString();
  }

  private static byte[] kserve(String id, String data, String datatype, int batch) {
    String json =
        "{"
            + (id == null ? "" : "\"id\":\"" + id + "\",")
            + "\"inputs\":[{\"name\":\"input\",\"shape\":["
            + batch
            + ",1,28,28],\"datatype\":\""
            + datatype
            + "\",\"data\":"
            + data
            + "}]}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String outputData(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body())
        .getAsJsonObject()
        .getAsJsonArray("outputs")
        .get(0)
        .getAsJsonObject()
        .getAsJsonArray("data")
        .toString();
  }

  private static float[] floats(JsonArray a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.parseFloat(a.get(i).getAsString());
    }
    return out;
  }

  private static byte[] png(byte[] pixels) throws Exception {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, pixels);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static DefaultFullHttpRequest request(String uri) {
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
  }

  private static JsonElement json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body());
  }

  private static JsonObject assertError(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as("%s", r.body()).isEqualTo(status);
    JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
    assertThat(body.get("code").getAsInt()).isEqualTo(status);
    assertThat(body.has("type") && body.has("message")).isTrue();
    return body;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(server.uri(path)).GET());
  }

  private HttpResponse<String> post(String path, byte[] body, String contentType) throws Exception {
    return send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
    return client.send(
        builder.version(HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
  }
}

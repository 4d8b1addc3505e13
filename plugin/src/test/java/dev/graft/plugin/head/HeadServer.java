package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The plugin's handler behind a real Netty server on a free port, with {@code model-store/mnist-wa}
 * in a scratch store (its head changes are durable in the copy's {@code graft.json}), and an HTTP
 * client for the heads and inference endpoints.
 */
public final class HeadServer implements AutoCloseable {
  private final Path store;
  private final GraftRequestHandler handler;
  private final TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();

  private HeadServer(Path store, GraftRequestHandler handler, TestServer server) {
    this.store = store;
    this.handler = handler;
    this.server = server;
  }

  /** Starts a server whose store holds {@code mnist-wa}, loaded at start-up. */
  public static HeadServer start(Path tmp) throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    WaFixtures.copyExampleModel(store, WaFixtures.MODEL);
    GraftConfig config =
        GraftConfig.of(
            Map.of(
                "model_store",
                store.toString(),
                "load_models",
                WaFixtures.MODEL,
                "graft.executor.threads",
                "4"),
            tmp);
    GraftRequestHandler handler = new GraftRequestHandler(config);
    try {
      return new HeadServer(store, handler, new TestServer(handler, 64 * 1024 * 1024));
    } catch (Exception | Error e) {
      handler.close();
      throw e;
    }
  }

  /**
   * Registers another copy of the example model under {@code name} (fresh head at v1), from a
   * folder of its own: models served from one folder share its {@code graft.json}, so their heads
   * would follow each other's changes.
   */
  public void register(String name) throws Exception {
    WaFixtures.copyExampleModel(store, name);
    HttpResponse<String> r =
        post("/models?url=" + name + "&model_name=" + name, new byte[0], "text/plain");
    assertThat(r.statusCode()).as("registering %s: %s", name, r.body()).isEqualTo(200);
  }

  public HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(server.uri(path)).GET());
  }

  public HttpResponse<String> post(String path, byte[] body, String contentType) throws Exception {
    return send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  /** A POST that must succeed; its JSON body. */
  public JsonObject postOk(String path, byte[] body, String contentType) throws Exception {
    HttpResponse<String> r = post(path, body, contentType);
    assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  /** A GET that must succeed; its JSON body. */
  public JsonObject getOk(String path) throws Exception {
    HttpResponse<String> r = get(path);
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  /** One KServe v2 response: the status, {@code X-Graft-Weights} and the first output. */
  public record Inference(int status, String weights, long[] shape, float[] data, String body) {}

  /**
   * {@code POST /v2/models/{m}/infer} for {@code n} images (NCHW pixel/255 floats starting at image
   * {@code from}), asking for one output.
   */
  public Inference infer(String model, float[] images, int from, int n, String output)
      throws Exception {
    StringBuilder json = new StringBuilder(n * 784 * 10 + 200);
    json.append("{\"inputs\":[{\"name\":\"input\",\"shape\":[")
        .append(n)
        .append(",1,28,28],\"datatype\":\"FP32\",\"data\":[");
    for (int i = from * 784, end = (from + n) * 784; i < end; i++) {
      json.append(i == from * 784 ? "" : ",").append(images[i]);
    }
    json.append("]}],\"outputs\":[{\"name\":\"").append(output).append("\"}]}");
    HttpResponse<String> r =
        post(
            "/v2/models/" + model + "/infer",
            json.toString().getBytes(StandardCharsets.UTF_8),
            "application/json");
    String weights = r.headers().firstValue("X-Graft-Weights").orElse(null);
    if (r.statusCode() != 200) {
      return new Inference(r.statusCode(), weights, new long[0], new float[0], r.body());
    }
    JsonObject out =
        JsonParser.parseString(r.body())
            .getAsJsonObject()
            .getAsJsonArray("outputs")
            .get(0)
            .getAsJsonObject();
    JsonArray shape = out.getAsJsonArray("shape");
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).getAsLong();
    }
    JsonArray data = out.getAsJsonArray("data");
    float[] values = new float[data.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = Float.parseFloat(data.get(i).getAsString());
    }
    return new Inference(r.statusCode(), weights, dims, values, r.body());
  }

  private HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
    return client.send(
        builder.version(HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    server.close();
    handler.close();
  }
}

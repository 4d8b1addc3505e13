package dev.graft.plugin.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.FloatTensor;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * KServe v2 REST with the binary tensor extension both ways: {@code POST /v2/models/{m}/infer}, a
 * JSON header naming the input with {@code binary_data_size}, then the little-endian floats, and
 * {@code binary_data_output} asked for. HTTP/1.1 through one {@link HttpClient} (a connection per
 * concurrent caller); {@code adapter} may be null (no {@link #patch}). Request bodies are encoded
 * once per input object, so the load generator spends its CPU on the protocol, not on re-encoding
 * the same image. Thread safe.
 */
final class RestBinaryLoad implements ServedLoad {
  private static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private final HttpClient http;
  private final URI infer;
  private final ServedAdapter adapter;
  // by identity: FloatTensor's equals compares every float
  private final Map<FloatTensor, Encoded> bodies =
      Collections.synchronizedMap(new IdentityHashMap<>());

  private record Encoded(byte[] body, String headerLength) {}

  RestBinaryLoad(HttpClient http, URI base, String model, ServedAdapter adapter) {
    this.http = http;
    this.infer =
        base.resolve("/v2/models/" + URLEncoder.encode(model, StandardCharsets.UTF_8) + "/infer");
    this.adapter = adapter;
  }

  /** The HTTP/1.1 client the served benchmarks share: a connection per concurrent caller. */
  static HttpClient client(Executor executor) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .executor(executor)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  @Override
  public String name() {
    return "rest-binary";
  }

  @Override
  public float[] infer(FloatTensor input) throws Exception {
    Encoded e = bodies.computeIfAbsent(input, RestBinaryLoad::encode);
    HttpRequest request =
        HttpRequest.newBuilder(infer)
            .header("Content-Type", "application/octet-stream")
            .header(HEADER_LENGTH, e.headerLength())
            .POST(HttpRequest.BodyPublishers.ofByteArray(e.body()))
            .build();
    HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(
          "HTTP " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    int headerLength =
        Integer.parseInt(
            r.headers()
                .firstValue(HEADER_LENGTH)
                .orElseThrow(() -> new IllegalStateException("no " + HEADER_LENGTH)));
    JsonObject header =
        JsonParser.parseString(new String(r.body(), 0, headerLength, StandardCharsets.UTF_8))
            .getAsJsonObject();
    JsonArray outputs = header.getAsJsonArray("outputs");
    int size =
        outputs
            .get(0)
            .getAsJsonObject()
            .getAsJsonObject("parameters")
            .get("binary_data_size")
            .getAsInt();
    if (headerLength + size > r.body().length) {
      throw new IllegalStateException("response shorter than its binary_data_size");
    }
    float[] out = new float[size / Float.BYTES];
    ByteBuffer.wrap(r.body(), headerLength, size)
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(out);
    return out;
  }

  private static Encoded encode(FloatTensor input) {
    int bytes = input.data().length * Float.BYTES;
    byte[] head =
        ("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\""
                + input.name()
                + "\",\"shape\":"
                + Arrays.toString(input.dims()).replace(" ", "")
                + ",\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + bytes
                + "}}]}")
            .getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(head.length + bytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put(head);
    b.asFloatBuffer().put(input.data());
    return new Encoded(b.array(), Integer.toString(head.length));
  }

  @Override
  public void patch(boolean attach) throws Exception {
    ServedAdapter.require(adapter).set(attach);
  }

  @Override
  public void close() {
    // the HttpClient belongs to the caller (shared with the adapter and other loads)
  }
}

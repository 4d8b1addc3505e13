package dev.graft.plugin.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.FloatTensor;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * KServe v2 REST with the binary tensor extension both ways: {@code POST /v2/models/{m}/infer}, a
 * JSON header naming the input with {@code binary_data_size}, then the little-endian floats, and
 * {@code binary_data_output} asked for. HTTP/1.1 through {@link KeepAliveHttp} (a keep-alive
 * connection per calling thread); {@code adapter} may be null (no {@link #patch}). Request bodies
 * are encoded once per input object, so the load generator spends its CPU on the protocol, not on
 * re-encoding the same image. Thread safe.
 */
final class RestBinaryLoad implements ServedLoad {
  private static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private final KeepAliveHttp http;
  private final String infer;
  private final ServedAdapter adapter;
  // by identity: FloatTensor's equals compares every float
  private final Map<FloatTensor, Encoded> bodies =
      Collections.synchronizedMap(new IdentityHashMap<>());

  private record Encoded(byte[] body, String headerLength) {}

  RestBinaryLoad(URI base, String model, ServedAdapter adapter) {
    this.http = new KeepAliveHttp(base);
    this.infer = "/v2/models/" + URLEncoder.encode(model, StandardCharsets.UTF_8) + "/infer";
    this.adapter = adapter;
  }

  @Override
  public String name() {
    return "rest-binary";
  }

  @Override
  public float[] infer(FloatTensor input) throws Exception {
    Encoded e = bodies.computeIfAbsent(input, RestBinaryLoad::encode);
    KeepAliveHttp.Response r =
        http.post(
            infer,
            Map.of("Content-Type", "application/octet-stream", HEADER_LENGTH, e.headerLength()),
            e.body());
    if (r.status() != 200) {
      throw new IllegalStateException(
          "HTTP " + r.status() + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    String length = r.headers().get(HEADER_LENGTH.toLowerCase(Locale.ROOT));
    if (length == null) {
      throw new IllegalStateException("no " + HEADER_LENGTH + " in the response");
    }
    int headerLength = Integer.parseInt(length);
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
    http.close();
  }
}

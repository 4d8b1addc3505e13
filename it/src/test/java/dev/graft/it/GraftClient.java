package dev.graft.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * A thin client for Graft's HTTP API over real sockets ({@link HttpClient}, HTTP/1.1). Thread safe.
 *
 * <p>Float exactness: request values are written as the decimal of the float widened to double
 * (which parses back to the same float whether the server reads float or double), and response
 * numbers are parsed from their decimal text with {@link Float#parseFloat}, so an output compares
 * bit for bit with what the server computed.
 */
public final class GraftClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private final URI base;
  private final HttpClient http;

  public GraftClient(URI base) {
    this.base = base;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
  }

  /** A status, the headers and the body of one exchange. */
  public record Response(int status, HttpHeaders headers, byte[] bytes) {
    public String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The body parsed as JSON; fails with the body text when it is not JSON. */
    public JsonElement json() {
      try {
        return JsonParser.parseString(body());
      } catch (JsonParseException e) {
        throw new AssertionError("not a JSON body: " + this, e);
      }
    }

    public JsonObject jsonObject() {
      JsonElement e = json();
      if (!e.isJsonObject()) {
        throw new AssertionError("expected a JSON object: " + this);
      }
      return e.getAsJsonObject();
    }

    public Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    /** {@code X-Graft-Weights}, or {@code null} when absent. */
    public String weights() {
      return headers.firstValue("X-Graft-Weights").orElse(null);
    }

    @Override
    public String toString() {
      String text = body();
      if (text.length() > 600) {
        text = text.substring(0, 600) + "...(" + bytes.length + " bytes)";
      }
      return status + " " + text;
    }
  }

  /** The logits of one {@code /v2} inference and the weight state that computed them. */
  public record Inference(float[] logits, long[] shape, String weights) {
    /** Index of the largest logit in {@code row}. */
    public int argmax(int row) {
      int cols = (int) shape[1];
      int best = 0;
      for (int c = 1; c < cols; c++) {
        if (logits[row * cols + c] > logits[row * cols + best]) {
          best = c;
        }
      }
      return best;
    }
  }

  public Response get(String pathAndQuery) {
    return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET());
  }

  public Response delete(String pathAndQuery) {
    return send(HttpRequest.newBuilder(uri(pathAndQuery)).DELETE());
  }

  /** POST without a body. */
  public Response post(String pathAndQuery) {
    return send(
        HttpRequest.newBuilder(uri(pathAndQuery)).POST(HttpRequest.BodyPublishers.noBody()));
  }

  public Response post(String pathAndQuery, String contentType, byte[] body) {
    return send(
        HttpRequest.newBuilder(uri(pathAndQuery))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  public Response postJson(String pathAndQuery, String json) {
    return post(pathAndQuery, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code POST /v2/models/{model}/infer} with {@code batch} as input {@code input}. */
  public Response inferRaw(String model, Batch batch) {
    return postJson("/v2/models/" + model + "/infer", v2Request("input", batch));
  }

  /**
   * Runs {@code batch} through {@code model} and returns the {@code logits}.
   *
   * @throws AssertionError when the server does not answer 200 with one FP32 output
   */
  public Inference infer(String model, Batch batch) {
    Response r = inferRaw(model, batch);
    if (r.status() != 200) {
      throw new AssertionError("inference on " + model + " failed: " + r);
    }
    return parseInference(r);
  }

  /** Reads the first output of a KServe v2 response. */
  public static Inference parseInference(Response r) {
    JsonObject body = r.jsonObject();
    JsonArray outputs = body.getAsJsonArray("outputs");
    if (outputs == null || outputs.size() == 0) {
      throw new AssertionError("no outputs in " + r);
    }
    JsonObject out = outputs.get(0).getAsJsonObject();
    JsonArray shapeJson = out.getAsJsonArray("shape");
    long[] shape = new long[shapeJson.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeJson.get(i).getAsLong();
    }
    JsonArray data = out.getAsJsonArray("data");
    float[] values = new float[data.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = Float.parseFloat(data.get(i).getAsString());
    }
    return new Inference(values, shape, r.weights());
  }

  /** A KServe v2 request body with one FP32 input, flat data. */
  public static String v2Request(String inputName, Batch batch) {
    StringBuilder json = new StringBuilder(batch.data().length * 8 + 128);
    json.append("{\"inputs\":[{\"name\":\"").append(inputName).append("\",\"shape\":[");
    long[] shape = batch.shape();
    for (int i = 0; i < shape.length; i++) {
      json.append(i == 0 ? "" : ",").append(shape[i]);
    }
    json.append("],\"datatype\":\"FP32\",\"data\":[");
    float[] data = batch.data();
    for (int i = 0; i < data.length; i++) {
      if (i > 0) {
        json.append(',');
      }
      // the double decimal of the float: exact whether the server parses float or double
      json.append(data[i] == 0f ? "0" : Double.toString(data[i]));
    }
    return json.append("]}]}").toString();
  }

  /** URL-encodes a query parameter value. */
  public static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private URI uri(String pathAndQuery) {
    return base.resolve(pathAndQuery);
  }

  private Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> r =
          http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException("request to " + base + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}

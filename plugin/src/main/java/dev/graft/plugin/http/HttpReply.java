package dev.graft.plugin.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A response to write: status, content type, body and extra headers. Immutable.
 *
 * @param headers extra headers, e.g. {@code X-Graft-Weights}
 */
public record HttpReply(
    HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
  public static final String JSON = "application/json";
  public static final String X_GRAFT_WEIGHTS = "X-Graft-Weights";

  public HttpReply {
    headers = Map.copyOf(headers);
  }

  /** A JSON reply of a serialised value. */
  public static HttpReply json(HttpResponseStatus status, Object value) {
    return new HttpReply(status, JSON, Json.toBytes(value), Map.of());
  }

  public static HttpReply ok(Object value) {
    return json(HttpResponseStatus.OK, value);
  }

  /** A copy with one more header. */
  public HttpReply withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new HttpReply(status, contentType, body, more);
  }

  /** The body as text (tests, logs). */
  public String text() {
    return new String(body, StandardCharsets.UTF_8);
  }
}

package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.UUID;

/**
 * A request copied out of Netty's buffers on the event loop, so workers never touch a {@code
 * ByteBuf} that the server releases when {@code handleRequest} returns.
 *
 * @param method the HTTP method
 * @param path the decoded path
 * @param segments the path's non-empty segments, e.g. {@code [models, m, adapters]}
 * @param query the decoded query parameters
 * @param headers a copy of the request headers
 * @param body a copy of the readable body bytes
 * @param requestId the client's {@code x-request-id}, or a new random one
 * @param keepAlive whether the connection stays open after the response
 * @param version the request's protocol version, used for the response
 */
public record HttpCall(
    HttpMethod method,
    String path,
    List<String> segments,
    Map<String, List<String>> query,
    HttpHeaders headers,
    byte[] body,
    String requestId,
    boolean keepAlive,
    HttpVersion version) {

  public static final String X_REQUEST_ID = "x-request-id";

  /** Copies what a worker needs; call on the event loop, before the request is released. */
  public static HttpCall copyOf(FullHttpRequest req, QueryStringDecoder decoder) {
    return copyOf(req, decoder, true);
  }

  /** Like {@link #copyOf(FullHttpRequest, QueryStringDecoder)}; without the body if not wanted. */
  public static HttpCall copyOf(FullHttpRequest req, QueryStringDecoder decoder, boolean body) {
    String id = req.headers().get(X_REQUEST_ID);
    if (id == null || id.isBlank()) {
      id = UUID.randomUUID().toString();
    }
    return new HttpCall(
        req.method(),
        decoder.path(),
        Arrays.stream(decoder.path().split("/")).filter(s -> !s.isEmpty()).toList(),
        Map.copyOf(decoder.parameters()),
        new DefaultHttpHeaders().set(req.headers()),
        body ? ByteBufUtil.getBytes(req.content()) : new byte[0],
        id,
        HttpUtil.isKeepAlive(req),
        req.protocolVersion());
  }

  /** The first value of a query parameter, if present. */
  public Optional<String> param(String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /** A required query parameter. */
  public String requireParam(String name) {
    return param(name)
        .filter(s -> !s.isBlank())
        .orElseThrow(() -> GraftException.invalid("query parameter %s is required", name));
  }

  /** A finite number parameter, if present. */
  public OptionalDouble doubleParam(String name) {
    Optional<String> text = param(name);
    if (text.isEmpty()) {
      return OptionalDouble.empty();
    }
    try {
      return OptionalDouble.of(Double.parseDouble(text.get().trim()));
    } catch (NumberFormatException e) {
      throw GraftException.invalid("%s must be a number, got '%s'", name, text.get());
    }
  }

  /** A {@code true}/{@code false} parameter, if present. */
  public Optional<Boolean> booleanParam(String name) {
    return param(name)
        .map(
            text ->
                switch (text.trim().toLowerCase(Locale.ROOT)) {
                  case "true" -> true;
                  case "false" -> false;
                  default ->
                      throw GraftException.invalid(
                          "%s must be true or false, got '%s'", name, text);
                });
  }

  /** The media type of the body, lower case without parameters; empty if none. */
  public String mediaType() {
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE, "");
    int semi = type.indexOf(';');
    return (semi < 0 ? type : type.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }
}

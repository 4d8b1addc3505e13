package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Owns {@code /echo}: answers with what it saw, as a value the host sends as 200 JSON. */
public final class EchoHandler implements RequestHandler<Map<String, Object>> {

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return PathMatch.owns(msg, "/echo");
  }

  @Override
  public Map<String, Object> handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    Map<String, Object> seen = new LinkedHashMap<>();
    seen.put("method", req.method().name());
    seen.put("path", decoder.path());
    seen.put("segments", Arrays.asList(segments));
    seen.put("query", decoder.parameters());
    seen.put("body", req.content().toString(StandardCharsets.UTF_8));
    seen.put("requestId", req.headers().get("x-request-id"));
    seen.put("handler", getClass().getName());
    return seen;
  }
}

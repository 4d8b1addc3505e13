package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;

/** Accepts every request; used to show that the first accepting handler wins. */
public final class CatchAllHandler implements RequestHandler<Map<String, String>> {

  @Override
  public Map<String, String> handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    return Map.of("handler", getClass().getName());
  }
}

package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

/** Owns {@code /boom} and throws on every request. */
public final class ThrowingHandler implements RequestHandler<Object> {

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return PathMatch.owns(msg, "/boom");
  }

  @Override
  public Object handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    throw new IllegalStateException("kaboom");
  }
}

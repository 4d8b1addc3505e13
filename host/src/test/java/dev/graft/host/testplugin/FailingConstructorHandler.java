package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

/** A plugin whose start-up fails. */
public final class FailingConstructorHandler implements RequestHandler<Object> {

  public FailingConstructorHandler() {
    throw new IllegalStateException("model store unreadable");
  }

  @Override
  public Object handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    return null;
  }
}

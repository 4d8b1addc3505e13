package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;

/** Owns {@code /raw}: writes a 201 text response itself and returns null. */
public final class RawHandler implements RequestHandler<Void> {

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return PathMatch.owns(msg, "/raw");
  }

  @Override
  public Void handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            req.protocolVersion(),
            HttpResponseStatus.CREATED,
            Unpooled.copiedBuffer("written by the plugin", StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(req));
    ctx.writeAndFlush(response);
    return null;
  }
}

package dev.graft.plugin.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpUtil;
import java.util.Map;

/**
 * Writes replies with {@code ctx.writeAndFlush} (safe from any thread: Netty runs the write on the
 * channel's event loop). Sets Content-Type, Content-Length and {@code x-request-id}, and honours
 * keep-alive: a connection the client wants closed is closed after the write. Stateless.
 */
public final class ResponseWriter {
  private ResponseWriter() {}

  public static ChannelFuture write(ChannelHandlerContext ctx, HttpCall call, HttpReply reply) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            call.version(), reply.status(), Unpooled.wrappedBuffer(reply.body()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
    HttpUtil.setContentLength(response, reply.body().length);
    response.headers().set(HttpCall.X_REQUEST_ID, call.requestId());
    for (Map.Entry<String, String> h : reply.headers().entrySet()) {
      response.headers().set(h.getKey(), h.getValue());
    }
    if (call.keepAlive()) {
      HttpUtil.setKeepAlive(response, true);
      return ctx.writeAndFlush(response);
    }
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}

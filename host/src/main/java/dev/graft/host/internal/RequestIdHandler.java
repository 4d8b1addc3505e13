package dev.graft.host.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.UUID;

/**
 * Gives every request an {@code x-request-id} (the client's, or a random UUID), writes it into the
 * request headers so handlers can read it, and stamps it on the final response to that request
 * unless the response already carries one. HTTP/1.1 answers requests in order, so ids are matched
 * to responses first in, first out; informational (1xx) responses are skipped.
 *
 * <p>One instance per channel: it holds the ids of the requests still waiting for a response
 * (touched only on the channel's event loop).
 */
public final class RequestIdHandler extends ChannelDuplexHandler {

  private final Deque<String> pending = new ArrayDeque<>(); // event loop only

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest request) {
      String id = request.headers().get(Reply.X_REQUEST_ID);
      if (id == null || id.isBlank()) {
        id = UUID.randomUUID().toString();
        request.headers().set(Reply.X_REQUEST_ID, id);
      }
      pending.addLast(id);
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (msg instanceof HttpResponse response
        && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      String id = pending.pollFirst();
      if (id != null && !response.headers().contains(Reply.X_REQUEST_ID)) {
        response.headers().set(Reply.X_REQUEST_ID, id);
      }
    }
    super.write(ctx, msg, promise);
  }
}

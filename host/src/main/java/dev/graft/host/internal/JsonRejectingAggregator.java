package dev.graft.host.internal;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * An {@link HttpObjectAggregator} that rejects an oversized request with a 413 JSON error body
 * instead of Netty's empty one. When the body is being sent, a keep-alive connection stays open:
 * the aggregator discards the rest of the oversized body, so the client can read the answer and
 * send the next request. A body announced with {@code Expect: 100-continue} is refused before it is
 * sent, and that connection is closed after the 413 (whether the client sends the body anyway is up
 * to the client, so the stream position is unknown). Non-keep-alive connections are closed after
 * the 413.
 *
 * <p>One instance per channel, like every aggregator.
 */
public final class JsonRejectingAggregator extends HttpObjectAggregator {

  private final int maxContentLength;

  public JsonRejectingAggregator(int maxContentLength) {
    super(maxContentLength);
    this.maxContentLength = maxContentLength;
  }

  @Override
  protected Object newContinueResponse(
      HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    Object response = super.newContinueResponse(start, maxContentLength, pipeline);
    if (response instanceof HttpResponse r
        && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
      ReferenceCountUtil.release(response);
      // The client may or may not send the announced body now; either way the decoder would
      // read what follows as that body, so the connection cannot be reused.
      return tooLarge(start, false);
    }
    return response;
  }

  @Override
  protected boolean closeAfterContinueResponse(Object msg) {
    if (msg instanceof HttpResponse r
        && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
      return true;
    }
    return super.closeAfterContinueResponse(msg);
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized)
      throws Exception {
    if (!(oversized instanceof HttpRequest)) {
      super.handleOversizedMessage(ctx, oversized);
      return;
    }
    // Without auto-read nobody would read the discarded rest, so such a connection must close.
    boolean keepAlive = HttpUtil.isKeepAlive(oversized) && ctx.channel().config().isAutoRead();
    ChannelFuture future = ctx.writeAndFlush(tooLarge(oversized, keepAlive));
    if (!keepAlive) {
      future.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private FullHttpResponse tooLarge(HttpMessage request, boolean keepAlive) {
    ErrorBody body =
        new ErrorBody(
            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code(),
            "TooLongHttpContentException",
            "Request body exceeds max_request_size (" + maxContentLength + " bytes).");
    return Reply.jsonResponse(
        request.protocolVersion(),
        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
        body.toJson(),
        keepAlive);
  }
}

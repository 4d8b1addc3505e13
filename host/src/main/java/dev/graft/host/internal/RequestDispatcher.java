package dev.graft.host.internal;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers each aggregated request: the plugin handlers first, in order (the first whose {@code
 * acceptInboundMessage} is true owns the request), then the host's built-ins ({@code GET /ping},
 * else 404).
 *
 * <p>What a plugin's {@code handleRequest} returns decides the response: {@code null} means the
 * plugin wrote it; a {@link CompletionStage} is answered when it completes (its value as 200 JSON,
 * a {@code null} value meaning the plugin wrote the response, a failure mapped by {@link
 * ErrorBody#fromFailure}); any other object is sent as 200 JSON. An exception thrown by a plugin
 * gives a 500 JSON error.
 *
 * <p>The request is released when {@code handleRequest} returns (plugins copy what they need, or
 * retain the request themselves). Stateless and shared by all channels of a connector; the handler
 * list is immutable.
 */
@ChannelHandler.Sharable
public final class RequestDispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger LOG = Logger.getLogger(RequestDispatcher.class.getName());

  private final List<RequestHandler<?>> handlers;

  /** A dispatcher consulting {@code handlers}; an empty list serves the built-ins only. */
  public RequestDispatcher(List<RequestHandler<?>> handlers) {
    super(FullHttpRequest.class, true);
    this.handlers = List.copyOf(handlers);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    DecoderResult decoded = req.decoderResult();
    if (decoded.isFailure()) {
      // The decoder discards everything after a bad message: the connection cannot be reused.
      new Reply(ctx, req.protocolVersion(), false).error(malformed(decoded.cause()));
      return;
    }
    Reply reply = new Reply(ctx, req.protocolVersion(), HttpUtil.isKeepAlive(req));
    QueryStringDecoder decoder = new QueryStringDecoder(req.uri());
    for (RequestHandler<?> handler : handlers) {
      Object result;
      try {
        if (!handler.acceptInboundMessage(req)) {
          continue;
        }
        result = handler.handleRequest(ctx, req, decoder, decoder.path().split("/"));
      } catch (Exception | LinkageError | AssertionError e) {
        LOG.log(
            Level.WARNING,
            "Plugin handler "
                + handler.getClass().getName()
                + " failed on "
                + req.method()
                + " "
                + req.uri(),
            e);
        reply.error(ErrorBody.internal(e));
        return;
      }
      deliver(ctx, reply, result);
      return;
    }
    answerBuiltIn(req, decoder, reply);
  }

  private static void deliver(ChannelHandlerContext ctx, Reply reply, Object result) {
    if (result == null) {
      return;
    }
    if (!(result instanceof CompletionStage<?> stage)) {
      reply.ok(result);
      return;
    }
    stage.whenComplete(
        (value, failure) -> {
          Runnable write =
              () -> {
                if (failure != null) {
                  reply.error(ErrorBody.fromFailure(failure));
                } else if (value != null) {
                  reply.ok(value);
                }
              };
          EventExecutor loop = ctx.executor();
          if (loop.inEventLoop()) {
            write.run();
            return;
          }
          try {
            loop.execute(write);
          } catch (RejectedExecutionException e) {
            LOG.fine("Event loop shut down before an asynchronous plugin result was written");
          }
        });
  }

  private static void answerBuiltIn(FullHttpRequest req, QueryStringDecoder decoder, Reply reply) {
    if (HttpMethod.GET.equals(req.method()) && "/ping".equals(decoder.path())) {
      reply.json(HttpResponseStatus.OK, "{\"status\":\"Healthy\"}");
    } else {
      reply.error(ErrorBody.notFound());
    }
  }

  private static ErrorBody malformed(Throwable cause) {
    String detail = cause == null ? "malformed HTTP request" : cause.getMessage();
    if (cause instanceof TooLongHttpLineException) {
      return new ErrorBody(414, "TooLongHttpLineException", detail);
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return new ErrorBody(431, "TooLongHttpHeaderException", detail);
    }
    return new ErrorBody(400, "BadRequestException", "Malformed HTTP request: " + detail);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      LOG.log(Level.FINE, "Connection error on " + ctx.channel(), cause);
    } else {
      LOG.log(Level.WARNING, "Unexpected error on " + ctx.channel() + ", closing it", cause);
    }
    ctx.close();
  }
}

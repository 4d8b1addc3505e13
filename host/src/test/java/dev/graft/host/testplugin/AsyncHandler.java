package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Owns {@code /async}: returns a future completed later on another thread; {@code /async/fail}
 * fails it with an {@link IllegalArgumentException}.
 */
public final class AsyncHandler implements RequestHandler<CompletableFuture<Map<String, Object>>> {

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return PathMatch.owns(msg, "/async");
  }

  @Override
  public CompletableFuture<Map<String, Object>> handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    boolean fail = decoder.path().equals("/async/fail");
    CompletableFuture<Map<String, Object>> future = new CompletableFuture<>();
    Thread worker =
        new Thread(
            () -> {
              sleepBriefly();
              if (fail) {
                future.completeExceptionally(new IllegalArgumentException("bad input"));
              } else {
                future.complete(Map.of("async", true, "completedOn", "worker"));
              }
            },
            "async-test-worker");
    worker.start();
    return future;
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

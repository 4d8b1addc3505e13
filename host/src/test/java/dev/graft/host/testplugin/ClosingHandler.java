package dev.graft.host.testplugin;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Accepts nothing; when closed, writes a marker file at the path of the config key {@code
 * close_marker} (read through {@code graft.config.close_marker}), so tests see that the host closed
 * it.
 */
public final class ClosingHandler implements RequestHandler<Void>, AutoCloseable {

  private final String marker = System.getProperty("graft.config.close_marker");

  @Override
  public boolean acceptInboundMessage(Object msg) {
    return false;
  }

  @Override
  public Void handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    throw new AssertionError("never accepted");
  }

  @Override
  public void close() throws IOException {
    if (marker != null) {
      Files.writeString(Path.of(marker), "closed");
    }
  }
}

package dev.graft.host.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.stream.ChunkedWriteHandler;

/**
 * The pipeline of one host connection: HTTP codec, chunked writes (for plugins that stream),
 * request ids, aggregation up to {@code max_request_size} (413 JSON beyond it), then the
 * dispatcher.
 */
public final class HttpChannelInitializer extends ChannelInitializer<SocketChannel> {

  private final int maxRequestSize;
  private final RequestDispatcher dispatcher;

  public HttpChannelInitializer(int maxRequestSize, RequestDispatcher dispatcher) {
    this.maxRequestSize = maxRequestSize;
    this.dispatcher = dispatcher;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    p.addLast("http", new HttpServerCodec());
    p.addLast("chunked", new ChunkedWriteHandler());
    // Before the aggregator, so its 413 responses get an id as well.
    p.addLast("request-id", new RequestIdHandler());
    p.addLast("aggregator", new JsonRejectingAggregator(maxRequestSize));
    p.addLast("dispatcher", dispatcher);
  }
}

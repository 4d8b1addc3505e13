package dev.graft.plugin.testing;

import ai.djl.serving.plugins.RequestHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A tiny real HTTP server on a free loopback port that dispatches like DJL Serving: the plugin's
 * handler when it accepts the request, else a 404 from "the host". The request is released when
 * {@code handleRequest} returns, as DJL Serving does.
 */
public final class TestServer implements AutoCloseable {
  public static final String HOST_404 = "not a graft path";

  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private final Channel channel;

  public TestServer(RequestHandler<?> handler, int maxContent) throws InterruptedException {
    channel =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(maxContent))
                        .addLast(new Dispatcher(handler));
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
  }

  public URI uri(String pathAndQuery) {
    int port = ((InetSocketAddress) channel.localAddress()).getPort();
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Dispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final RequestHandler<?> handler;

    Dispatcher(RequestHandler<?> handler) {
      this.handler = handler;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      if (handler.acceptInboundMessage(req)) {
        QueryStringDecoder decoder = new QueryStringDecoder(req.uri());
        Object result = handler.handleRequest(ctx, req, decoder, decoder.path().split("/"));
        if (result != null) {
          throw new IllegalStateException("Graft must write its own responses, got " + result);
        }
        return;
      }
      DefaultFullHttpResponse response =
          new DefaultFullHttpResponse(
              req.protocolVersion(),
              HttpResponseStatus.NOT_FOUND,
              Unpooled.copiedBuffer(HOST_404, StandardCharsets.UTF_8));
      HttpUtil.setContentLength(response, response.content().readableBytes());
      ctx.writeAndFlush(response);
    }
  }
}

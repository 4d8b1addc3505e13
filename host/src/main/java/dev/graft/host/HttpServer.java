package dev.graft.host;

import ai.djl.serving.plugins.RequestHandler;
import dev.graft.host.internal.HttpChannelInitializer;
import dev.graft.host.internal.RequestDispatcher;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The host's HTTP connectors on Netty 4.1 (NIO). When the inference and management addresses are
 * equal (the default) one connector serves both and consults the plugin handlers; otherwise the
 * inference connector serves only the built-ins and the management connector consults the plugins.
 *
 * <p>Does not own the handlers: the caller closes them. Thread-safe; {@link #close()} is
 * idempotent.
 */
public final class HttpServer implements AutoCloseable {

  private static final int BACKLOG = 1024;

  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final List<Channel> serverChannels;
  private final BindAddress inferenceAddress;
  private final BindAddress managementAddress;

  private HttpServer(
      EventLoopGroup bossGroup,
      EventLoopGroup workerGroup,
      List<Channel> serverChannels,
      BindAddress inferenceAddress,
      BindAddress managementAddress) {
    this.bossGroup = bossGroup;
    this.workerGroup = workerGroup;
    this.serverChannels = List.copyOf(serverChannels);
    this.inferenceAddress = inferenceAddress;
    this.managementAddress = managementAddress;
  }

  /**
   * Binds the connectors of {@code config}.
   *
   * @param handlers the plugin handlers, consulted in order on the connector that sees plugins
   * @throws IOException when an address cannot be bound; nothing stays open then
   */
  public static HttpServer start(HostConfig config, List<RequestHandler<?>> handlers)
      throws IOException {
    EventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("graft-host-accept"));
    EventLoopGroup workers = new NioEventLoopGroup(0, new DefaultThreadFactory("graft-host-io"));
    List<Channel> channels = new ArrayList<>();
    try {
      RequestDispatcher withPlugins = new RequestDispatcher(handlers);
      if (config.sharedConnector()) {
        Channel shared = bind(boss, workers, config.inferenceAddress(), config, withPlugins);
        channels.add(shared);
        BindAddress actual = config.inferenceAddress().withPort(portOf(shared));
        return new HttpServer(boss, workers, channels, actual, actual);
      }
      RequestDispatcher builtInsOnly = new RequestDispatcher(List.of());
      Channel inference = bind(boss, workers, config.inferenceAddress(), config, builtInsOnly);
      channels.add(inference);
      Channel management = bind(boss, workers, config.managementAddress(), config, withPlugins);
      channels.add(management);
      return new HttpServer(
          boss,
          workers,
          channels,
          config.inferenceAddress().withPort(portOf(inference)),
          config.managementAddress().withPort(portOf(management)));
    } catch (IOException | RuntimeException e) {
      channels.forEach(c -> c.close().awaitUninterruptibly());
      shutdown(boss, workers);
      throw e;
    }
  }

  private static Channel bind(
      EventLoopGroup boss,
      EventLoopGroup workers,
      BindAddress address,
      HostConfig config,
      RequestDispatcher dispatcher)
      throws IOException {
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, BACKLOG)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new HttpChannelInitializer(config.maxRequestSize(), dispatcher));
    InetSocketAddress socketAddress = address.toSocketAddress();
    if (socketAddress.isUnresolved()) {
      throw new IOException("Cannot bind " + address + ": unknown host");
    }
    ChannelFuture bound = bootstrap.bind(socketAddress).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw new IOException(
          "Cannot bind " + address + ": " + bound.cause().getMessage(), bound.cause());
    }
    return bound.channel();
  }

  private static int portOf(Channel channel) {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** The inference connector, with the port actually bound. */
  public BindAddress inferenceAddress() {
    return inferenceAddress;
  }

  /** The management connector, with the port actually bound (the inference one when shared). */
  public BindAddress managementAddress() {
    return managementAddress;
  }

  /** Closes the listening sockets; open connections keep being served until {@link #close()}. */
  public void stopAccepting() {
    for (Channel channel : serverChannels) {
      channel.close().awaitUninterruptibly();
    }
  }

  /** Stops accepting, then shuts the event loops down gracefully and waits for them. */
  @Override
  public void close() {
    stopAccepting();
    shutdown(bossGroup, workerGroup);
  }

  /** Blocks until the event loops have terminated, i.e. until {@link #close()} completed. */
  public void awaitTermination() {
    workerGroup.terminationFuture().awaitUninterruptibly();
    bossGroup.terminationFuture().awaitUninterruptibly();
  }

  private static void shutdown(EventLoopGroup boss, EventLoopGroup workers) {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(100, 3_000, TimeUnit.MILLISECONDS);
    boss.terminationFuture().awaitUninterruptibly();
    workers.terminationFuture().awaitUninterruptibly();
  }
}

package dev.graft.plugin.grpc;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.kserve.KServeInference;
import dev.graft.plugin.metrics.Metrics;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The KServe v2 gRPC endpoint: a grpc-java server (its own shaded Netty) on {@code grpc_address}.
 *
 * <p>Owns the server and its small executor (two daemon threads that decode messages and answer
 * health and metadata calls; inference is handed to the plugin's worker pool). Its connections take
 * their buffers from {@link NetworkBuffers} (chunks that large tensors do not churn). Messages
 * larger than {@code max_request_size} are refused by grpc-java with {@code RESOURCE_EXHAUSTED}.
 * {@link #close} stops accepting calls, lets running calls finish for up to five seconds, then
 * cancels the rest; it is idempotent.
 */
public final class GrpcServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GrpcServer.class.getName());
  private static final long GRACE_SECONDS = 5;

  private final Server server;
  private final ExecutorService executor;
  private final InetSocketAddress address;

  private GrpcServer(Server server, ExecutorService executor, InetSocketAddress address) {
    this.server = server;
    this.executor = executor;
    this.address = address;
  }

  /**
   * Binds and starts the server, then prints {@code gRPC API bind to: HOST:PORT} (the bound port)
   * to {@code out}.
   *
   * @param address {@code host:port}; port 0 takes any free port
   * @param workers where inferences run
   * @throws GraftException {@code INVALID_ARGUMENT} for a malformed address, {@code UNAVAILABLE}
   *     when it cannot be bound
   */
  public static GrpcServer start(
      String address,
      long maxMessageBytes,
      KServeInference kserve,
      Executor workers,
      Metrics metrics,
      PrintStream out) {
    InetSocketAddress bind = parse(address);
    ExecutorService executor = Executors.newFixedThreadPool(2, threads());
    Server server =
        NettyServerBuilder.forAddress(bind)
            .executor(executor)
            .withChildOption(ChannelOption.ALLOCATOR, NetworkBuffers.allocator())
            .maxInboundMessageSize((int) Math.min(maxMessageBytes, Integer.MAX_VALUE))
            .addService(new KServeGrpcService(kserve, workers, metrics))
            .build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      executor.shutdownNow();
      throw new GraftException(
          GraftException.Code.UNAVAILABLE,
          "cannot serve gRPC on " + address + ": " + e.getMessage(),
          e);
    }
    InetSocketAddress bound = new InetSocketAddress(bind.getHostString(), server.getPort());
    out.println("gRPC API bind to: " + hostPort(bound));
    out.flush();
    LOG.info("KServe v2 gRPC serving on " + hostPort(bound));
    return new GrpcServer(server, executor, bound);
  }

  /** The bound address (the real port, never 0). */
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(GRACE_SECONDS, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(GRACE_SECONDS, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    executor.shutdownNow();
  }

  /** {@code host:port}, IPv6 hosts in brackets. */
  static InetSocketAddress parse(String address) {
    try {
      URI uri = new URI("grpc://" + address.trim());
      if (uri.getHost() == null || uri.getPort() < 0 || !uri.getPath().isEmpty()) {
        throw new URISyntaxException(address, "expected host:port");
      }
      String host = uri.getHost();
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new InetSocketAddress(host, uri.getPort());
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw GraftException.invalid(
          "grpc_address '%s' must be host:port (port 0 for any free port)", address);
    }
  }

  private static String hostPort(InetSocketAddress a) {
    String host = a.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  private static ThreadFactory threads() {
    AtomicInteger n = new AtomicInteger();
    ClassLoader loader = GrpcServer.class.getClassLoader();
    return r -> {
      Thread t = new Thread(r, "graft-grpc-" + n.incrementAndGet());
      t.setDaemon(true);
      t.setContextClassLoader(loader);
      return t;
    };
  }
}

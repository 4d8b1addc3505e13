package dev.graft.plugin;

import ai.djl.serving.plugins.RequestHandler;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.grpc.GrpcServer;
import dev.graft.plugin.http.HttpCall;
import dev.graft.plugin.http.HttpErrors;
import dev.graft.plugin.http.HttpReply;
import dev.graft.plugin.http.RequestMetrics;
import dev.graft.plugin.http.ResponseWriter;
import dev.graft.plugin.http.Router;
import dev.graft.plugin.internal.WorkerPool;
import dev.graft.plugin.kserve.KServeInference;
import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.model.StartupModels;
import dev.graft.plugin.patch.RequestWeights;
import dev.graft.plugin.runtime.PyTorchEngine;
import dev.graft.plugin.security.ManagementAuth;
import dev.graft.plugin.state.DurableStates;
import dev.graft.plugin.state.StateSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Graft's DJL Serving request handler: serves ONNX models and hot-patches them with RWS adapters
 * (see docs/http-api.md).
 *
 * <p>On the Netty event loop it only decides ownership, enforces {@code max_request_size}, and
 * copies the request; the work runs on one of two bounded pools and the worker writes the response
 * itself, so {@link #handleRequest} returns {@code null}. Inferences ({@code /predictions/...},
 * {@code /v2/models/{m}/infer}) run on the worker pool ({@code graft.executor.threads}, {@code
 * graft.executor.queue}); everything else (management, metadata, health, metrics) runs on a small
 * control pool ({@code graft.control.threads}, {@code graft.control.queue}), so an adapter change
 * or a readiness probe never waits behind queued inferences. A full queue answers 503.
 *
 * <p>Management paths ({@code /models...}) need the bearer token when {@code management_token} is
 * set ({@link ManagementAuth}). Every model's adapters and head versions are durable in its {@code
 * graft.json} ({@link DurableStates}), replayed when the model loads.
 *
 * <p>Also serves KServe v2 over gRPC on {@code grpc_address} (see {@link GrpcServer}), started once
 * the start-up models are loaded; gRPC inferences share the same worker pool.
 *
 * <p>Owns the worker pool, the gRPC server, the state watcher and every model; {@link #close}
 * (called by the host at shutdown) stops gRPC, then the rest, and frees every ONNX Runtime object.
 * Thread safe.
 */
public final class GraftRequestHandler implements RequestHandler<Void>, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GraftRequestHandler.class.getName());

  private final GraftConfig config;
  private final ManagementAuth auth;
  private final DurableStates states;
  private final ModelRegistry registry;
  private final ThreadPoolExecutor workers;
  private final ThreadPoolExecutor control;
  private final Router router;
  private final Metrics metrics;
  private final RequestMetrics requestMetrics;
  private volatile GrpcServer grpc; // null when gRPC is off; set once in the constructor
  private volatile boolean closing;

  /**
   * The constructor DJL Serving calls: configuration from the environment (see {@link
   * GraftConfig#fromEnvironment}).
   */
  public GraftRequestHandler() {
    this(GraftConfig.fromEnvironment());
  }

  /**
   * A handler with an explicit configuration; loads the {@code load_models} models.
   *
   * @throws GraftException when a start-up model cannot be loaded (DJL Serving then aborts)
   */
  public GraftRequestHandler(GraftConfig config) {
    this(
        config,
        WorkerPool.create("graft-worker", config.executorThreads(), config.executorQueue()),
        WorkerPool.create("graft-control", config.controlThreads(), config.controlQueue()));
  }

  /**
   * A handler running inferences on {@code workers} and other requests on {@code control}, both of
   * which it owns from now on (tests).
   */
  GraftRequestHandler(GraftConfig config, ThreadPoolExecutor workers, ThreadPoolExecutor control) {
    this.config = config;
    this.workers = workers;
    this.control = control;
    this.auth = ManagementAuth.of(config);
    ModelStore store = ModelStore.of(config);
    this.states = new DurableStates(store, StateSettings.of(config));
    this.registry = new ModelRegistry(states);
    this.metrics = new Metrics(this::weightBytes, this::headVersions);
    KServeInference kserve =
        new KServeInference(
            registry, new RequestWeights(config.variantsMax(), metrics), () -> !closing);
    this.router =
        new Router(
            registry,
            store,
            new ModelLoader(PyTorchEngine.of(config), config.weightCache()),
            config.maxRequestSize(),
            states,
            kserve,
            metrics);
    this.requestMetrics = new RequestMetrics(metrics, registry);
    auth.warnIfExposed(config);
    try {
      StartupModels.load(config, store, registry);
      if (config.grpcAddress().isPresent()) {
        grpc =
            GrpcServer.start(
                config.grpcAddress().get(),
                config.maxRequestSize(),
                kserve,
                workers,
                metrics,
                System.out);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    LOG.info("Graft serving " + registry.list().size() + " model(s) from " + config.modelStore());
  }

  /** The models this handler serves (tests, embedding). */
  public ModelRegistry registry() {
    return registry;
  }

  /** The plugin's metrics; other parts (e.g. head changes) record into it. */
  public Metrics metrics() {
    return metrics;
  }

  /** Where gRPC listens (the bound port), if it is on. */
  public Optional<InetSocketAddress> grpcAddress() {
    GrpcServer g = grpc;
    return g == null ? Optional.empty() : Optional.of(g.address());
  }

  private Map<String, Long> weightBytes() {
    Map<String, Long> bytes = new LinkedHashMap<>();
    for (ServedModel m : registry.list()) {
      bytes.put(m.name(), m.runtime().weightBytes());
    }
    return bytes;
  }

  private List<Metrics.HeadVersionValue> headVersions() {
    List<Metrics.HeadVersionValue> versions = new ArrayList<>();
    for (ServedModel m : registry.list()) {
      m.head()
          .ifPresent(
              h ->
                  versions.add(
                      new Metrics.HeadVersionValue(m.name(), h.name(), h.current().version())));
    }
    return versions;
  }

  @Override
  public boolean acceptInboundMessage(Object msg) {
    if (!(msg instanceof HttpRequest request)) {
      return false;
    }
    return Router.owns(new QueryStringDecoder(request.uri()).path());
  }

  @Override
  public Void handleRequest(
      ChannelHandlerContext ctx,
      FullHttpRequest req,
      QueryStringDecoder decoder,
      String[] segments) {
    Optional<HttpReply> refused = auth.refusal(decoder.path(), req.headers());
    if (refused.isPresent()) {
      ResponseWriter.write(ctx, HttpCall.copyOf(req, decoder, false), refused.get());
      return null;
    }
    long declared = parseLength(req.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    if (req.content().readableBytes() > config.maxRequestSize()
        || declared > config.maxRequestSize()) {
      HttpCall head = HttpCall.copyOf(req, decoder, false);
      ResponseWriter.write(ctx, head, HttpErrors.reply(head.path(), tooLarge()));
      return null;
    }
    HttpCall call = HttpCall.copyOf(req, decoder);
    long received = System.nanoTime();
    try {
      poolFor(call.path())
          .execute(
              () -> {
                long start = System.nanoTime();
                HttpReply reply = answer(call);
                requestMetrics.record(call, reply, start - received, System.nanoTime() - start);
                ResponseWriter.write(ctx, call, reply);
              });
    } catch (RejectedExecutionException e) {
      HttpReply reply =
          HttpErrors.reply(
              call.path(),
              new GraftException(
                  GraftException.Code.UNAVAILABLE,
                  "over capacity: the request queue is full, retry later"));
      requestMetrics.record(call, reply, -1, -1);
      ResponseWriter.write(ctx, call, reply);
    }
    return null;
  }

  private ThreadPoolExecutor poolFor(String path) {
    boolean inference =
        path.startsWith("/predictions/")
            || (path.startsWith("/v2/models/") && path.endsWith("/infer"));
    return inference ? workers : control;
  }

  /** The router's reply; even an {@link Error} (e.g. out of memory) still answers the client. */
  private HttpReply answer(HttpCall call) {
    try {
      return router.handle(call);
    } catch (Throwable t) { // the client must get a response whatever happened
      return HttpErrors.reply(call.path(), t);
    }
  }

  private GraftException tooLarge() {
    return new GraftException(
        GraftException.Code.TOO_LARGE,
        "request body is larger than max_request_size (" + config.maxRequestSize() + " bytes)");
  }

  private static long parseLength(String header) {
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Stops gRPC (running calls get up to 5 s), stops accepting work, lets queued and running
   * requests finish (up to 30 s), then closes every model. Idempotent.
   */
  @Override
  public void close() {
    closing = true;
    GrpcServer g = grpc;
    if (g != null) {
      g.close();
    }
    workers.shutdown();
    control.shutdown();
    try {
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
      if (!control.awaitTermination(30, TimeUnit.SECONDS)) {
        control.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      control.shutdownNow();
      Thread.currentThread().interrupt();
    }
    int models = registry.list().size();
    states.close();
    registry.close();
    LOG.info("Graft stopped; closed " + models + " model(s)");
  }
}

package dev.graft.plugin;

import ai.djl.serving.plugins.RequestHandler;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.http.HttpCall;
import dev.graft.plugin.http.HttpErrors;
import dev.graft.plugin.http.HttpReply;
import dev.graft.plugin.http.ResponseWriter;
import dev.graft.plugin.http.Router;
import dev.graft.plugin.internal.WorkerPool;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.StartupModels;
import dev.graft.plugin.runtime.PyTorchEngine;
import dev.graft.plugin.security.ManagementAuth;
import dev.graft.plugin.state.DurableStates;
import dev.graft.plugin.state.StateSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
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
 * copies the request; the work runs on a bounded worker pool ({@code graft.executor.threads},
 * {@code graft.executor.queue}; a full queue answers 503) and the worker writes the response
 * itself, so {@link #handleRequest} returns {@code null}.
 *
 * <p>Management paths ({@code /models...}) need the bearer token when {@code management_token} is
 * set ({@link ManagementAuth}). Every model's adapters are durable in its {@code graft.json}
 * ({@link DurableStates}), replayed when the model loads.
 *
 * <p>Owns the worker pool, the state watcher and every model; {@link #close} (called by the host at
 * shutdown) stops them and frees every ONNX Runtime object. Thread safe.
 */
public final class GraftRequestHandler implements RequestHandler<Void>, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GraftRequestHandler.class.getName());

  private final GraftConfig config;
  private final ManagementAuth auth;
  private final DurableStates states;
  private final ModelRegistry registry;
  private final ThreadPoolExecutor workers;
  private final Router router;

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
        WorkerPool.create("graft-worker", config.executorThreads(), config.executorQueue()));
  }

  /** A handler running requests on {@code workers}, which it owns from now on (tests). */
  GraftRequestHandler(GraftConfig config, ThreadPoolExecutor workers) {
    this.config = config;
    this.workers = workers;
    this.auth = ManagementAuth.of(config);
    ModelStore store = ModelStore.of(config);
    this.states = new DurableStates(store, StateSettings.of(config));
    this.registry = new ModelRegistry(states);
    this.router =
        new Router(
            registry,
            store,
            new ModelLoader(PyTorchEngine.of(config), config.weightCache()),
            config.maxRequestSize(),
            states);
    auth.warnIfExposed(config);
    try {
      StartupModels.load(config, store, registry);
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
    try {
      workers.execute(() -> ResponseWriter.write(ctx, call, answer(call)));
    } catch (RejectedExecutionException e) {
      ResponseWriter.write(
          ctx,
          call,
          HttpErrors.reply(
              call.path(),
              new GraftException(
                  GraftException.Code.UNAVAILABLE,
                  "over capacity: the request queue is full, retry later")));
    }
    return null;
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
   * Stops accepting work, lets queued and running requests finish (up to 30 s), then closes every
   * model. Idempotent.
   */
  @Override
  public void close() {
    workers.shutdown();
    try {
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
    int models = registry.list().size();
    states.close();
    registry.close();
    LOG.info("Graft stopped; closed " + models + " model(s)");
  }
}

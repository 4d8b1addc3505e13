package dev.graft.plugin.http;

import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.head.http.HeadEndpoints;
import dev.graft.plugin.kserve.KServeInference;
import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.state.DurableStates;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Map;

/**
 * Maps a request to its endpoint and turns every failure into an error reply. Runs on worker
 * threads; stateless and thread safe.
 *
 * <p>Graft owns {@code /models} and below, {@code /predictions/...}, the KServe v2 paths ({@code
 * /v2}, {@code /v2/health/...}, {@code /v2/models/...}) and {@code /metrics}; {@link #owns} is
 * false for every other path so the host's own handlers keep them.
 */
public final class Router {
  private final ModelEndpoints models;
  private final AdapterEndpoints adapters;
  private final InferenceEndpoints inference;
  private final HeadEndpoints heads;
  private final V2Endpoints v2;
  private final Metrics metrics;

  public Router(
      ModelRegistry registry,
      ModelStore store,
      ModelLoader loader,
      long maxRequestSize,
      DurableStates states,
      KServeInference kserve,
      Metrics metrics) {
    this.models = new ModelEndpoints(registry, loader, store, states);
    this.adapters = new AdapterEndpoints(registry, store, maxRequestSize, states, metrics);
    this.inference = new InferenceEndpoints(registry, kserve.weights());
    this.heads = new HeadEndpoints(registry);
    this.v2 = new V2Endpoints(kserve);
    this.metrics = metrics;
  }

  /** Whether Graft answers this path (decoded, without the query). */
  public static boolean owns(String path) {
    return path.equals("/models")
        || path.startsWith("/models/")
        || path.startsWith("/predictions/")
        || path.equals("/v2")
        || path.equals("/v2/")
        || path.startsWith("/v2/health/")
        || path.equals("/v2/models")
        || path.startsWith("/v2/models/")
        || path.equals("/metrics");
  }

  /** Answers a request; never throws. */
  public HttpReply handle(HttpCall call) {
    try {
      HttpReply reply = route(call);
      return reply != null
          ? reply
          : HttpErrors.reply(
              call.path(), HttpResponseStatus.NOT_FOUND, "no such path: " + call.path());
    } catch (MethodNotAllowed e) {
      return HttpErrors.reply(
          call.path(),
          HttpResponseStatus.METHOD_NOT_ALLOWED,
          call.method() + " is not allowed on " + call.path());
    } catch (RuntimeException | LinkageError | AssertionError e) {
      return HttpErrors.reply(call.path(), e);
    }
  }

  /** The reply, or null for an unknown path. */
  private HttpReply route(HttpCall call) {
    List<String> s = call.segments();
    HttpMethod method = call.method();
    if (s.isEmpty()) {
      return null;
    }
    switch (s.get(0)) {
      case "models":
        return routeModels(call, s, method);
      case "predictions":
        if (s.size() == 2 || s.size() == 3) { // DJL also accepts /predictions/{m}/{version}
          allow(method, HttpMethod.POST, HttpMethod.PUT);
          return inference.predict(s.get(1), call);
        }
        return null;
      case "v2":
        return routeKServe(call, s, method);
      case "metrics":
        if (s.size() == 1) {
          allow(method, HttpMethod.GET);
          return new HttpReply(
              HttpResponseStatus.OK, Metrics.CONTENT_TYPE, metrics.scrape(), Map.of());
        }
        return null;
      default:
        return null;
    }
  }

  private HttpReply routeModels(HttpCall call, List<String> s, HttpMethod method) {
    if (s.size() == 1) {
      if (method.equals(HttpMethod.GET)) {
        return models.list();
      }
      allow(method, HttpMethod.POST);
      return models.register(call);
    }
    String model = s.get(1);
    if (s.size() == 2) {
      if (method.equals(HttpMethod.GET)) {
        return models.describe(model);
      }
      allow(method, HttpMethod.DELETE);
      return models.unregister(model);
    }
    if (s.get(2).equals("heads")) {
      return routeHeads(call, s, method);
    }
    if (!s.get(2).equals("adapters")) {
      return null;
    }
    if (s.size() == 3) {
      if (method.equals(HttpMethod.GET)) {
        return adapters.list(model);
      }
      allow(method, HttpMethod.POST);
      return adapters.register(model, call);
    }
    String adapter = s.get(3);
    if (s.size() == 4) {
      if (method.equals(HttpMethod.GET)) {
        return adapters.get(model, adapter);
      }
      allow(method, HttpMethod.DELETE);
      return adapters.remove(model, adapter);
    }
    if (s.size() == 5 && s.get(4).equals("update")) {
      allow(method, HttpMethod.POST);
      return adapters.update(model, adapter, call);
    }
    return null;
  }

  /** {@code /models/{m}/heads[/{h}[/classes|/rollback|/history]]}. */
  private HttpReply routeHeads(HttpCall call, List<String> s, HttpMethod method) {
    String model = s.get(1);
    if (s.size() == 3) {
      allow(method, HttpMethod.GET);
      return heads.list(model);
    }
    String head = s.get(3);
    if (s.size() == 4) {
      allow(method, HttpMethod.GET);
      return heads.describe(model, head);
    }
    if (s.size() != 5) {
      return null;
    }
    switch (s.get(4)) {
      case "classes":
        allow(method, HttpMethod.POST);
        return heads.addClasses(model, head, call);
      case "rollback":
        allow(method, HttpMethod.POST);
        return heads.rollback(model, head);
      case "history":
        allow(method, HttpMethod.GET);
        return heads.history(model, head);
      default:
        return null;
    }
  }

  private HttpReply routeKServe(HttpCall call, List<String> s, HttpMethod method) {
    if (s.size() == 1) {
      allow(method, HttpMethod.GET);
      return v2.server();
    }
    if (s.size() == 3 && s.get(1).equals("health")) {
      switch (s.get(2)) {
        case "live":
          allow(method, HttpMethod.GET);
          return v2.live();
        case "ready":
          allow(method, HttpMethod.GET);
          return v2.ready();
        default:
          return null;
      }
    }
    if (s.size() < 3 || !s.get(1).equals("models")) {
      return null;
    }
    String model = s.get(2);
    String version = "";
    List<String> rest = s.subList(3, s.size());
    if (rest.size() >= 2 && rest.get(0).equals("versions")) {
      version = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    if (rest.isEmpty()) {
      allow(method, HttpMethod.GET);
      return v2.metadata(model, version);
    }
    if (rest.size() == 1 && rest.get(0).equals("ready")) {
      allow(method, HttpMethod.GET);
      return v2.modelReady(model, version);
    }
    if (rest.size() == 1 && rest.get(0).equals("infer")) {
      allow(method, HttpMethod.POST);
      return v2.infer(model, version, call);
    }
    return null;
  }

  private static void allow(HttpMethod method, HttpMethod... allowed) {
    for (HttpMethod a : allowed) {
      if (a.equals(method)) {
        return;
      }
    }
    throw new MethodNotAllowed();
  }

  /** Thrown by {@link #allow}; answered with 405. */
  private static final class MethodNotAllowed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MethodNotAllowed() {
      super(null, null, false, false);
    }
  }
}

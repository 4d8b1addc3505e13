package dev.graft.plugin.http;

import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.state.DurableStates;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * Maps a request to its endpoint and turns every failure into an error reply. Runs on worker
 * threads; stateless and thread safe.
 *
 * <p>Graft owns {@code /models} and below, {@code /predictions/...} and {@code /v2/models/...};
 * {@link #owns} is false for every other path so the host's own handlers keep them.
 */
public final class Router {
  private final ModelEndpoints models;
  private final AdapterEndpoints adapters;
  private final InferenceEndpoints inference;

  public Router(
      ModelRegistry registry,
      ModelStore store,
      ModelLoader loader,
      long maxRequestSize,
      DurableStates states) {
    this.models = new ModelEndpoints(registry, loader, store, states);
    this.adapters = new AdapterEndpoints(registry, store, maxRequestSize, states);
    this.inference = new InferenceEndpoints(registry);
  }

  /** Whether Graft answers this path (decoded, without the query). */
  public static boolean owns(String path) {
    return path.equals("/models")
        || path.startsWith("/models/")
        || path.startsWith("/predictions/")
        || path.equals("/v2/models")
        || path.startsWith("/v2/models/");
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

  private HttpReply routeKServe(HttpCall call, List<String> s, HttpMethod method) {
    if (s.size() < 3 || !s.get(1).equals("models")) {
      return null;
    }
    String model = s.get(2);
    List<String> rest = s.subList(3, s.size());
    if (rest.size() >= 2 && rest.get(0).equals("versions")) {
      rest = rest.subList(2, rest.size()); // one version per model: any version name is it
    }
    if (rest.isEmpty()) {
      allow(method, HttpMethod.GET);
      return inference.metadata(model);
    }
    if (rest.size() == 1 && rest.get(0).equals("ready")) {
      allow(method, HttpMethod.GET);
      return inference.ready(model);
    }
    if (rest.size() == 1 && rest.get(0).equals("infer")) {
      allow(method, HttpMethod.POST);
      return inference.infer(model, call);
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

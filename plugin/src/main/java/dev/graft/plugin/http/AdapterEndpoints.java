package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.patch.SignatureSource;
import dev.graft.plugin.state.DurableStates;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code /models/{m}/adapters}: RWS signatures on live models. Changes go through the model's
 * durable state (written to {@code graft.json} before they go live). Stateless; thread safe.
 */
final class AdapterEndpoints {
  private final ModelRegistry registry;
  private final ModelStore store;
  private final long maxBytes;
  private final DurableStates states;
  private final Metrics metrics;

  AdapterEndpoints(
      ModelRegistry registry,
      ModelStore store,
      long maxBytes,
      DurableStates states,
      Metrics metrics) {
    this.registry = registry;
    this.store = store;
    this.maxBytes = maxBytes;
    this.states = states;
    this.metrics = metrics;
  }

  /** Runs a change, recording the adapter operations and the weight swap it made. */
  private HttpReply measured(String model, Supplier<HttpReply> change) {
    ModelAdapters adapters = registry.get(model).adapters();
    ModelAdapters.Snapshot before = adapters.snapshot();
    long start = System.nanoTime();
    HttpReply reply = change.get();
    AdapterMetrics.record(metrics, model, before, adapters.snapshot(), System.nanoTime() - start);
    return reply;
  }

  /** {@code POST /models/{m}/adapters?name=&src=&alpha=&attach=&transfer=} or a body. */
  HttpReply register(String model, HttpCall call) {
    return measured(model, () -> doRegister(model, call));
  }

  private HttpReply doRegister(String model, HttpCall call) {
    String name = call.requireParam("name");
    double alpha = call.doubleParam("alpha").orElse(1.0);
    boolean attach = call.booleanParam("attach").orElse(true);
    boolean transfer = call.booleanParam("transfer").orElse(false);
    SignatureSource.Loaded loaded;
    byte[] upload = null;
    if (call.param("src").isPresent()) {
      if (call.body().length > 0) {
        throw GraftException.invalid("give src or the .rws file as body, not both");
      }
      String src = call.requireParam("src");
      loaded = SignatureSource.readFile(store.resolve(src, "src"), src, maxBytes);
    } else {
      loaded = SignatureSource.fromBody(call.body());
      upload = call.body();
    }
    Adapter a = states.of(model).register(name, loaded, upload, alpha, attach, transfer);
    return HttpReply.ok(Views.adapter(a));
  }

  /** {@code GET /models/{m}/adapters}. */
  HttpReply list(String model) {
    ModelAdapters.Snapshot s = registry.get(model).adapters().snapshot();
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("adapters", s.adapters().stream().map(Views::adapter).toList());
    v.put("weights", s.weights());
    return HttpReply.ok(v);
  }

  /** {@code GET /models/{m}/adapters/{a}}. */
  HttpReply get(String model, String name) {
    return HttpReply.ok(Views.adapter(registry.get(model).adapters().get(name)));
  }

  /** {@code POST /models/{m}/adapters/{a}/update?alpha=&attach=}. */
  HttpReply update(String model, String name, HttpCall call) {
    return measured(model, () -> doUpdate(model, name, call));
  }

  private HttpReply doUpdate(String model, String name, HttpCall call) {
    Adapter a =
        states.of(model).update(name, call.doubleParam("alpha"), call.booleanParam("attach"));
    return HttpReply.ok(Views.adapter(a));
  }

  /** {@code DELETE /models/{m}/adapters/{a}}. */
  HttpReply remove(String model, String name) {
    return measured(
        model,
        () -> {
          states.of(model).remove(name);
          return HttpReply.ok(Views.status("Adapter \"" + name + "\" removed"));
        });
  }
}

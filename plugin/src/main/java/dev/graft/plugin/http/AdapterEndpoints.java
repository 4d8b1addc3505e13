package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import dev.graft.plugin.patch.SignatureSource;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code /models/{m}/adapters}: RWS signatures on live models. Stateless; thread safe. */
final class AdapterEndpoints {
  private final ModelRegistry registry;
  private final ModelStore store;
  private final long maxBytes;

  AdapterEndpoints(ModelRegistry registry, ModelStore store, long maxBytes) {
    this.registry = registry;
    this.store = store;
    this.maxBytes = maxBytes;
  }

  /** {@code POST /models/{m}/adapters?name=&src=&alpha=&attach=&transfer=} or a body. */
  HttpReply register(String model, HttpCall call) {
    ModelAdapters adapters = registry.get(model).adapters();
    String name = call.requireParam("name");
    double alpha = call.doubleParam("alpha").orElse(1.0);
    boolean attach = call.booleanParam("attach").orElse(true);
    boolean transfer = call.booleanParam("transfer").orElse(false);
    SignatureSource.Loaded loaded;
    if (call.param("src").isPresent()) {
      if (call.body().length > 0) {
        throw GraftException.invalid("give src or the .rws file as body, not both");
      }
      String src = call.requireParam("src");
      loaded = SignatureSource.readFile(store.resolve(src, "src"), src, maxBytes);
    } else {
      loaded = SignatureSource.fromBody(call.body());
    }
    Adapter a = adapters.register(name, loaded, alpha, attach, transfer);
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
    Adapter a =
        registry
            .get(model)
            .adapters()
            .update(name, call.doubleParam("alpha"), call.booleanParam("attach"));
    return HttpReply.ok(Views.adapter(a));
  }

  /** {@code DELETE /models/{m}/adapters/{a}}. */
  HttpReply remove(String model, String name) {
    registry.get(model).adapters().remove(name);
    return HttpReply.ok(Views.status("Adapter \"" + name + "\" removed"));
  }
}

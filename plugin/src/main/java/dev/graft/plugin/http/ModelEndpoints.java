package dev.graft.plugin.http;

import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.state.DurableStates;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code /models}: register, list, describe and unregister models. Stateless; thread safe. */
final class ModelEndpoints {
  private final ModelRegistry registry;
  private final ModelLoader loader;
  private final ModelStore store;
  private final DurableStates states;

  ModelEndpoints(
      ModelRegistry registry, ModelLoader loader, ModelStore store, DurableStates states) {
    this.registry = registry;
    this.loader = loader;
    this.store = store;
    this.states = states;
  }

  /** {@code POST /models?url=&model_name=}. */
  HttpReply register(HttpCall call) {
    String url = call.requireParam("url");
    Path path = store.resolve(url, "url");
    String name =
        call.param("model_name").filter(s -> !s.isBlank()).orElse(ModelLoader.defaultName(path));
    registry.register(name, () -> loader.load(name, path, url));
    return HttpReply.ok(Views.status("Model \"" + name + "\" registered."));
  }

  /** {@code GET /models}. */
  HttpReply list() {
    List<Map<String, Object>> models = registry.list().stream().map(Views::summary).toList();
    return HttpReply.ok(Map.of("models", models));
  }

  /** {@code GET /models/{m}}: a one-element array, like DJL's describe, plus state problems. */
  HttpReply describe(String name) {
    ServedModel m = registry.get(name);
    Map<String, Object> v = Views.describe(m);
    v.put("problems", states.problems(name));
    return HttpReply.ok(List.of(v));
  }

  /** {@code DELETE /models/{m}}. */
  HttpReply unregister(String name) {
    registry.unregister(name);
    return HttpReply.ok(Views.status("Model \"" + name + "\" unregistered"));
  }
}

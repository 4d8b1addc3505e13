package dev.graft.plugin.head.http;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.head.HeadInference;
import dev.graft.plugin.head.HeadVersion;
import dev.graft.plugin.head.ModelHead;
import dev.graft.plugin.http.HttpCall;
import dev.graft.plugin.http.HttpReply;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import java.util.List;
import java.util.Map;

/**
 * {@code /models/{m}/heads[/{h}[/classes|/rollback|/history]]}: the class-incremental heads of live
 * models (docs/http-api.md, "Heads"). Stateless; thread safe.
 */
public final class HeadEndpoints {
  private final ModelRegistry registry;

  public HeadEndpoints(ModelRegistry registry) {
    this.registry = registry;
  }

  /** {@code GET /models/{m}/heads}: the model's heads (none, or the one it declares). */
  public HttpReply list(String model) {
    ServedModel m = registry.get(model);
    List<Map<String, Object>> heads =
        m.head().stream()
            .map(
                h -> {
                  HeadVersion v = h.current(); // read once: the view and its weights agree
                  return HeadViews.describe(h, v, weights(m, v));
                })
            .toList();
    return HttpReply.ok(Map.of("heads", heads));
  }

  /** {@code GET /models/{m}/heads/{h}}. */
  public HttpReply describe(String model, String name) {
    ServedModel m = registry.get(model);
    ModelHead head = find(m, name);
    HeadVersion v = head.current();
    return HttpReply.ok(HeadViews.describe(head, v, weights(m, v)));
  }

  /** {@code POST /models/{m}/heads/{h}/classes[?align=wa|none]} with a safetensors or JSON body. */
  public HttpReply addClasses(String model, String name, HttpCall call) {
    ServedModel m = registry.get(model);
    ModelHead head = find(m, name);
    AlignMode mode = AlignMode.parse(call.param("align").orElse(null));
    ClassifierHead rows = HeadUpload.parse(call.body(), call.mediaType());
    HeadVersion v = head.addClasses(rows, mode);
    return HttpReply.ok(HeadViews.added(head, v, weights(m, v)));
  }

  /** {@code POST /models/{m}/heads/{h}/rollback}. */
  public HttpReply rollback(String model, String name) {
    ServedModel m = registry.get(model);
    ModelHead head = find(m, name);
    ModelHead.Rollback r = head.rollback();
    return HttpReply.ok(HeadViews.rolledBack(head, r.from(), r.to(), weights(m, r.to())));
  }

  /** {@code GET /models/{m}/heads/{h}/history}. */
  public HttpReply history(String model, String name) {
    ModelHead head = find(registry.get(model), name);
    return HttpReply.ok(HeadViews.history(head, head.current()));
  }

  private static ModelHead find(ServedModel m, String name) {
    return m.head()
        .filter(h -> h.name().equals(name))
        .orElseThrow(
            () ->
                GraftException.notFound(
                    "model %s has no head named %s (heads: %s)",
                    m.name(), name, m.head().map(ModelHead::name).stream().toList()));
  }

  /** The {@code X-Graft-Weights} value of inferences computed with {@code v}. */
  private static String weights(ServedModel m, HeadVersion v) {
    return m.adapters().snapshot().weights() + HeadInference.SEPARATOR + v.tag();
  }
}

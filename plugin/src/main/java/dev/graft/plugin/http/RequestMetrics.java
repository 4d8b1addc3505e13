package dev.graft.plugin.http;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.model.ModelRegistry;
import java.util.List;

/**
 * Records REST inference requests ({@code /predictions/{m}} and {@code /v2/models/{m}/.../infer})
 * in the metrics; other paths are not inference and are not counted. A model that is not registered
 * is counted as {@value #UNKNOWN_MODEL}, so clients cannot grow the label set at will. Stateless.
 */
public final class RequestMetrics {
  static final String UNKNOWN_MODEL = "_unknown";

  private final Metrics metrics;
  private final ModelRegistry registry;

  public RequestMetrics(Metrics metrics, ModelRegistry registry) {
    this.metrics = metrics;
    this.registry = registry;
  }

  /**
   * Records one answered request.
   *
   * @param queueNanos time before a worker took it; negative when none did
   * @param computeNanos time on the worker; negative when none took it
   */
  public void record(HttpCall call, HttpReply reply, long queueNanos, long computeNanos) {
    List<String> s = call.segments();
    String protocol;
    String model;
    if (s.size() >= 2 && s.size() <= 3 && s.get(0).equals("predictions")) {
      protocol = Metrics.REST_PREDICTIONS;
      model = s.get(1);
    } else if (s.size() >= 4
        && s.get(0).equals("v2")
        && s.get(1).equals("models")
        && s.get(s.size() - 1).equals("infer")) {
      protocol = Metrics.REST_V2;
      model = s.get(2);
    } else {
      return;
    }
    String label = isRegistered(model) ? model : UNKNOWN_MODEL;
    metrics.request(
        label, protocol, Integer.toString(reply.status().code()), queueNanos, computeNanos);
  }

  private boolean isRegistered(String model) {
    try {
      registry.get(model);
      return true;
    } catch (GraftException e) {
      return false;
    }
  }
}

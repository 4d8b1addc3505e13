package dev.graft.plugin.http;

import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.patch.Adapter;
import dev.graft.plugin.patch.ModelAdapters;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Turns the adapter sets before and after a management call into metrics: adapters attached,
 * detached, and re-scaled while attached, and the call's duration as a weight swap when the live
 * weights changed. Stateless.
 */
final class AdapterMetrics {
  private AdapterMetrics() {}

  static void record(
      Metrics metrics,
      String model,
      ModelAdapters.Snapshot before,
      ModelAdapters.Snapshot after,
      long nanos) {
    Map<String, Adapter> was = byName(before);
    Map<String, Adapter> now = byName(after);
    int attached = 0;
    int detached = 0;
    int rescaled = 0;
    for (Adapter a : now.values()) {
      Adapter old = was.get(a.name());
      boolean wasAttached = old != null && old.attached();
      if (a.attached() && !wasAttached) {
        attached++;
      } else if (!a.attached() && wasAttached) {
        detached++;
      } else if (a.attached() && old.alpha() != a.alpha()) {
        rescaled++;
      }
    }
    for (Adapter old : was.values()) {
      if (old.attached() && !now.containsKey(old.name())) {
        detached++;
      }
    }
    metrics.adapterOperation(model, "attach", attached);
    metrics.adapterOperation(model, "detach", detached);
    metrics.adapterOperation(model, "rescale", rescaled);
    if (!before.weights().equals(after.weights())) {
      metrics.weightsBuilt(model, "swap", nanos);
    }
  }

  private static Map<String, Adapter> byName(ModelAdapters.Snapshot s) {
    return s.adapters().stream().collect(Collectors.toMap(Adapter::name, Function.identity()));
  }
}

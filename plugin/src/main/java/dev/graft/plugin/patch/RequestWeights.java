package dev.graft.plugin.patch;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.metrics.Metrics;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.TensorResult;
import dev.graft.plugin.runtime.WeightVariant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Runs requests on the adapters they name instead of the attached set ({@code ?adapters=}, header
 * {@value #HEADER}, v2 parameter {@value #PARAMETER}).
 *
 * <p>A selection is resolved against the model's registered adapters (unknown names are refused)
 * and labelled like {@code X-Graft-Weights}. When it equals the live weights the request runs on
 * them; otherwise on a variant from the model's {@link VariantCache}, keyed by the label and the
 * adapters' file digests (so an adapter re-registered from another file is never served stale
 * weights). One cache per model runtime, at most {@code maxVariants} variants each; a cache goes
 * with its runtime, which closes its variants itself. Thread safe.
 */
public final class RequestWeights {
  /** The request header naming adapters. */
  public static final String HEADER = "X-Graft-Adapters";

  /** The query and v2 parameter naming adapters. */
  public static final String PARAMETER = "adapters";

  private final int maxVariants;
  private final Metrics metrics;
  private final Map<ModelRuntime, VariantCache> caches = new WeakHashMap<>(); // guarded by itself

  public RequestWeights(int maxVariants, Metrics metrics) {
    this.maxVariants = maxVariants;
    this.metrics = metrics;
  }

  /**
   * Runs {@code inference} on the weights a request asked for.
   *
   * @param selection the request's adapter selection; empty for the live weights
   * @param inference runs the request on a variant, or on the live weights when given null
   * @throws GraftException {@code INVALID_ARGUMENT} for a malformed selection or an adapter the
   *     model does not have; what building the weights or the inference throws
   */
  public TensorResult run(
      ModelAdapters adapters,
      ModelRuntime runtime,
      Optional<String> selection,
      Function<WeightVariant, TensorResult> inference) {
    if (selection.isEmpty()) {
      return inference.apply(null);
    }
    SortedMap<String, Adapter> chosen = resolve(adapters, AdapterSelection.parse(selection.get()));
    String label = ModelAdapters.label(chosen);
    if (label.equals(runtime.weightsLabel())) {
      try (WeightVariant live = runtime.acquireCurrent()) {
        if (live == null) { // the runtime cannot pin its weights: the label check must do
          return inference.apply(null);
        }
        if (live.label().equals(label)) { // pinned: cannot change while the request runs
          return inference.apply(live);
        }
      }
      // the live weights changed since the label was read: a variant it is
    }
    VariantCache cache;
    synchronized (caches) {
      cache = caches.computeIfAbsent(runtime, r -> new VariantCache(r, maxVariants));
    }
    try (VariantCache.Lease lease =
        cache.lease(
            key(label, chosen),
            () -> adapters.weightsOf(chosen),
            nanos -> metrics.weightsBuilt(runtime.name(), "variant", nanos))) {
      return inference.apply(lease.variant());
    }
  }

  /** The registered adapters a selection names, attached with the requested alphas. */
  static SortedMap<String, Adapter> resolve(ModelAdapters adapters, AdapterSelection selection) {
    ModelAdapters.Snapshot snapshot = adapters.snapshot();
    Map<String, Adapter> registered =
        snapshot.adapters().stream().collect(Collectors.toMap(Adapter::name, a -> a));
    SortedMap<String, Adapter> chosen = new TreeMap<>();
    for (AdapterSelection.Entry e : selection.entries()) {
      Adapter a = registered.get(e.name());
      if (a == null) {
        throw GraftException.invalid(
            "model %s has no adapter named %s (registered: %s)",
            adapters.model(), e.name(), registered.keySet());
      }
      chosen.put(a.name(), a.withAlpha(e.alpha().orElse(a.alpha())).withAttached(true));
    }
    return Collections.unmodifiableSortedMap(chosen);
  }

  private static String key(String label, SortedMap<String, Adapter> chosen) {
    return label
        + "#"
        + chosen.values().stream().map(a -> a.source().sha256()).collect(Collectors.joining(","));
  }
}

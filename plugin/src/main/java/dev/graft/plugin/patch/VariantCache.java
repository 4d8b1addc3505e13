package dev.graft.plugin.patch;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.WeightVariant;
import dev.graft.plugin.runtime.Weights;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The per-request weight variants of one model, least recently used first out: at most {@code
 * capacity} variants are kept (built or being built). An evicted variant is closed at once, which
 * frees its session when its last in-flight request ends (see {@link WeightVariant}).
 *
 * <p>Concurrent requests for the same key share one build. When every slot holds a variant still
 * being built, a request for yet another one is refused with {@code UNAVAILABLE} rather than
 * growing past the bound. Thread safe; the map is guarded by {@code this}, builds run outside it.
 */
final class VariantCache {
  private final ModelRuntime runtime;
  private final int capacity;
  // guarded by this; access order, eldest first
  private final LinkedHashMap<String, CompletableFuture<WeightVariant>> entries =
      new LinkedHashMap<>(16, 0.75f, true);

  VariantCache(ModelRuntime runtime, int capacity) {
    this.runtime = runtime;
    this.capacity = capacity;
  }

  /** A variant with a reference held for one request; closing gives the reference back. */
  record Lease(WeightVariant variant) implements AutoCloseable {
    @Override
    public void close() {
      variant.release();
    }
  }

  /**
   * The variant for {@code key}, built from {@code weights} when absent, with a reference taken.
   *
   * @param onBuild told the build time in nanoseconds after each build this call performed
   * @throws GraftException what building throws; {@code UNAVAILABLE} when the bound is reached by
   *     builds in progress, or the model is closing
   */
  Lease lease(String key, Supplier<Weights> weights, LongConsumer onBuild) {
    while (true) {
      CompletableFuture<WeightVariant> future;
      boolean build = false;
      List<WeightVariant> evicted;
      synchronized (this) {
        future = entries.get(key);
        if (future == null) {
          evicted = makeRoom();
          future = new CompletableFuture<>();
          entries.put(key, future);
          build = true;
        } else {
          evicted = List.of();
        }
      }
      evicted.forEach(WeightVariant::close);
      if (build) {
        build(key, future, weights, onBuild);
      }
      WeightVariant variant = await(future);
      synchronized (this) {
        if (entries.get(key) == future) {
          if (!variant.tryAcquire()) {
            throw new GraftException(
                GraftException.Code.UNAVAILABLE, runtime.name() + " is being unloaded");
          }
          return new Lease(variant);
        }
      }
      // evicted between the build and the lease: look again
    }
  }

  private void build(
      String key,
      CompletableFuture<WeightVariant> future,
      Supplier<Weights> weights,
      LongConsumer onBuild) {
    long start = System.nanoTime();
    try {
      future.complete(runtime.openVariant(weights.get()));
      onBuild.accept(System.nanoTime() - start);
    } catch (RuntimeException | Error e) {
      synchronized (this) {
        entries.remove(key, future);
      }
      future.completeExceptionally(e);
      throw e;
    }
  }

  private static WeightVariant await(CompletableFuture<WeightVariant> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /** Removes built entries, eldest first, until one more fits. Caller holds the lock. */
  private List<WeightVariant> makeRoom() {
    List<WeightVariant> evicted = new ArrayList<>();
    Iterator<Map.Entry<String, CompletableFuture<WeightVariant>>> it =
        entries.entrySet().iterator();
    while (entries.size() >= capacity && it.hasNext()) {
      CompletableFuture<WeightVariant> f = it.next().getValue();
      if (f.isDone() && !f.isCompletedExceptionally()) {
        it.remove();
        evicted.add(f.join());
      }
    }
    if (entries.size() >= capacity) {
      evicted.forEach(WeightVariant::close);
      throw new GraftException(
          GraftException.Code.UNAVAILABLE,
          runtime.name()
              + ": "
              + capacity
              + " per-request weight variants are being built already; retry later");
    }
    return evicted;
  }

  /** The keys held, least recently used first (tests). */
  synchronized List<String> keys() {
    return List.copyOf(entries.keySet());
  }
}

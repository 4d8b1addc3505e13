package dev.graft.plugin.patch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.runtime.WeightVariant;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.GraphlessRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The LRU of per-request weight variants, on a runtime that counts what it builds and frees. */
class VariantCacheTest {
  private final CountingRuntime runtime = new CountingRuntime();
  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void keepsTheMostRecentlyUsedAndFreesTheEvicted() {
    VariantCache cache = new VariantCache(runtime, 2);
    lease(cache, "a").close();
    lease(cache, "b").close();
    lease(cache, "a").close(); // a is now the most recent
    lease(cache, "c").close(); // evicts b

    assertThat(cache.keys()).as("least recently used first").containsExactly("a", "c");
    assertThat(runtime.built).as("a hit builds nothing").hasValue(3);
    assertThat(runtime.freed()).as("the evicted variant is freed").containsExactly("b");
  }

  @Test
  void anEvictedVariantLivesUntilItsLastRequestEnds() {
    VariantCache cache = new VariantCache(runtime, 1);
    VariantCache.Lease inFlight = lease(cache, "a");
    lease(cache, "b").close(); // evicts a while a request still runs on it

    assertThat(runtime.freed()).as("a request is still running on a").isEmpty();
    inFlight.close();
    assertThat(runtime.freed()).as("freed when that request ends").containsExactly("a");
  }

  @Test
  void concurrentRequestsForOneSetShareOneBuild() throws Exception {
    VariantCache cache = new VariantCache(runtime, 2);
    runtime.gate = new CountDownLatch(1);
    Future<VariantCache.Lease> first = pool.submit(() -> lease(cache, "a"));
    runtime.building.await(30, TimeUnit.SECONDS);
    Future<VariantCache.Lease> second = pool.submit(() -> lease(cache, "a"));
    runtime.gate.countDown();

    VariantCache.Lease l1 = first.get(30, TimeUnit.SECONDS);
    VariantCache.Lease l2 = second.get(30, TimeUnit.SECONDS);
    assertThat(l1.variant()).isSameAs(l2.variant());
    assertThat(runtime.built).hasValue(1);
    l1.close();
    l2.close();
  }

  @Test
  void refusesAnotherSetWhileEverySlotIsStillBuilding() throws Exception {
    VariantCache cache = new VariantCache(runtime, 1);
    runtime.gate = new CountDownLatch(1);
    Future<VariantCache.Lease> building = pool.submit(() -> lease(cache, "a"));
    runtime.building.await(30, TimeUnit.SECONDS);

    GraftException e = catchThrowableOfType(GraftException.class, () -> lease(cache, "b"));
    assertThat(e).as("the bound holds even while builds are running").isNotNull();
    assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE);
    runtime.gate.countDown();
    building.get(30, TimeUnit.SECONDS).close();
  }

  @Test
  void aFailedBuildIsNotCached() {
    VariantCache cache = new VariantCache(runtime, 2);
    runtime.failNext = true;
    assertThat(catchThrowableOfType(GraftException.class, () -> lease(cache, "a"))).isNotNull();
    assertThat(cache.keys()).isEmpty();
    lease(cache, "a").close();
    assertThat(cache.keys()).containsExactly("a");
  }

  private static VariantCache.Lease lease(VariantCache cache, String key) {
    return cache.lease(key, () -> new Weights(key, List.of()), nanos -> {});
  }

  /** Builds counted variants; {@link #gate}, when set, holds builds until opened. */
  private static final class CountingRuntime extends GraphlessRuntime {
    final AtomicInteger built = new AtomicInteger();
    final List<String> freed = new ArrayList<>();
    final CountDownLatch building = new CountDownLatch(1);
    volatile CountDownLatch gate;
    volatile boolean failNext;

    CountingRuntime() {
      super("counting");
    }

    synchronized List<String> freed() {
      return List.copyOf(freed);
    }

    @Override
    public WeightVariant openVariant(Weights weights) {
      if (failNext) {
        failNext = false;
        throw GraftException.precondition("build failed");
      }
      building.countDown();
      CountDownLatch g = gate;
      if (g != null) {
        try {
          g.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      built.incrementAndGet();
      return new CountedVariant(weights.label());
    }

    private final class CountedVariant implements WeightVariant {
      private final String label;
      private final AtomicInteger refs = new AtomicInteger(1);
      private volatile boolean closed;

      CountedVariant(String label) {
        this.label = label;
      }

      @Override
      public String label() {
        return label;
      }

      @Override
      public boolean tryAcquire() {
        while (true) {
          int n = refs.get();
          if (n == 0) {
            return false;
          }
          if (refs.compareAndSet(n, n + 1)) {
            return true;
          }
        }
      }

      @Override
      public void release() {
        if (refs.decrementAndGet() == 0) {
          synchronized (CountingRuntime.this) {
            freed.add(label);
          }
        }
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          release();
        }
      }
    }
  }
}

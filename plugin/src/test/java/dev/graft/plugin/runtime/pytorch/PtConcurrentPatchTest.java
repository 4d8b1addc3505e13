package dev.graft.plugin.runtime.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TorchFixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * In-place patching under load: readers infer while a writer swaps between three weight sets. A
 * forward pass that saw half a patch would produce logits equal to none of the three expected ones;
 * a label read outside the lock would pair logits with the wrong name.
 */
class PtConcurrentPatchTest {
  private static final int READERS = 3;
  private static final long DURATION_MS = 4_000;

  private record Observation(String label, float[] logits) {}

  @Test
  void everyResultEqualsTheOutputOfTheWeightsItsLabelNames() throws Exception {
    ModelWeights base = TorchFixtures.weights("clean");
    PtModelRuntime runtime = (PtModelRuntime) TorchFixtures.open("vgg-pt", "clean");
    ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);
    try {
      FloatTensor x =
          new FloatTensor(
              "input", new long[] {8, 1, 28, 28}, Fixtures.testImages("gaussian_noise", 8));
      List<Weights> states =
          List.of(
              Weights.base(),
              patch(base, "gaussian_noise", 1.0),
              patch(base, "gaussian_blur", 0.5));
      Map<String, float[]> expected = new java.util.HashMap<>();
      for (Weights w : states) {
        runtime.swapWeights(w);
        expected.put(w.label(), infer(runtime, x).outputs().get(0).data());
      }
      assertThat(expected.get("base"))
          .as("the states must be distinguishable")
          .isNotEqualTo(expected.get("gaussian_noise@1.0"));

      ConcurrentLinkedQueue<Observation> seen = new ConcurrentLinkedQueue<>();
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<?>> readers = new ArrayList<>();
      for (int i = 0; i < READERS; i++) {
        readers.add(
            pool.submit(
                () -> {
                  while (!stop.get()) {
                    InferenceResult r = infer(runtime, x);
                    seen.add(new Observation(r.weights(), r.outputs().get(0).data()));
                  }
                }));
      }
      int swaps = 0;
      long deadline = System.currentTimeMillis() + DURATION_MS;
      while (System.currentTimeMillis() < deadline) {
        runtime.swapWeights(states.get(swaps++ % states.size()));
      }
      stop.set(true);
      for (Future<?> f : readers) {
        f.get(60, TimeUnit.SECONDS);
      }

      assertThat(swaps).as("swaps done while readers ran").isGreaterThan(30);
      assertThat(seen.stream().map(Observation::label).distinct())
          .as("labels observed in %d results", seen.size())
          .hasSize(3);
      for (Observation o : seen) {
        assertThat(o.logits())
            .as("a result labelled %s: %s", o.label(), Arrays.toString(o.logits()))
            .containsExactly(expected.get(o.label()));
      }
    } finally {
      pool.shutdownNow();
      runtime.close();
    }
  }

  private static InferenceResult infer(PtModelRuntime runtime, FloatTensor x) {
    return runtime.infer(Map.of("input", x), Set.of());
  }

  private static Weights patch(ModelWeights base, String corruption, double alpha) {
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Fixtures.signature(corruption), alpha));
    return new Weights(corruption + "@" + alpha, RwsPatch.apply(base::floatTensor, terms));
  }
}

package dev.graft.plugin.patch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.SplitOrtModelRuntime;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live patching under load on the split runtime, in process: 8 threads infer while another
 * attaches, re-scales and detaches two adapters in a loop. No inference may fail, and each result
 * must equal, bit for bit, the whole model patched offline with the weights its label names. Runs
 * {@code -Dgraft.churn.seconds} seconds (default 5).
 */
class SplitChurnTest {
  private static final int CLIENTS = 8;
  private static final Duration DURATION =
      Duration.ofSeconds(Long.getLong("graft.churn.seconds", 5));

  @TempDir Path tmp;

  private record Observation(String weights, float[] logits) {}

  @Test
  void inferenceDuringChurnNeverFailsAndMatchesTheNamedWeights() throws Exception {
    ModelFile file = ModelFile.read(Fixtures.vgg("clean"));
    ModelSettings on = ModelSettings.parse(Map.of("option.graft.split", "on"), "test");
    FloatTensor x =
        new FloatTensor(
            "input", new long[] {8, 1, 28, 28}, Fixtures.testImages("gaussian_noise", 8));
    ConcurrentLinkedQueue<Observation> seen = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger swaps = new AtomicInteger();
    try (SplitOrtModelRuntime runtime =
        SplitOrtModelRuntime.open("vgg", file, on, tmp.resolve("cache"))) {
      ModelAdapters adapters = new ModelAdapters("vgg", file.model(), runtime);
      long deadline = System.nanoTime() + DURATION.toNanos();
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
      List<Future<?>> tasks = new ArrayList<>();
      try {
        for (int c = 0; c < CLIENTS; c++) {
          tasks.add(
              pool.submit(
                  () -> {
                    while (System.nanoTime() < deadline) {
                      try {
                        InferenceResult r = runtime.infer(Map.of("input", x), Set.of());
                        seen.add(new Observation(r.weights(), r.outputs().get(0).data()));
                      } catch (RuntimeException e) {
                        failures.add(e);
                      }
                    }
                  }));
        }
        tasks.add(pool.submit(() -> churn(adapters, deadline, swaps, failures)));
        for (Future<?> t : tasks) {
          t.get(DURATION.toSeconds() + 60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
    }

    assertThat(failures).as("failed inferences or swaps during churn").isEmpty();
    assertThat(swaps.get()).as("weight swaps made").isGreaterThan(4);
    TreeMap<String, List<Observation>> byLabel = new TreeMap<>();
    seen.forEach(o -> byLabel.computeIfAbsent(o.weights(), k -> new ArrayList<>()).add(o));
    assertThat(byLabel.keySet())
        .as("weight states the clients saw (%d inferences)", seen.size())
        .contains("base")
        .hasSizeGreaterThan(2);
    for (Map.Entry<String, List<Observation>> e : byLabel.entrySet()) {
      float[] expected = offline(e.getKey(), x);
      for (Observation o : e.getValue()) {
        assertThat(o.logits())
            .as("a result labelled '%s' (%d such)", e.getKey(), e.getValue().size())
            .containsExactly(expected);
      }
    }
  }

  private static void churn(
      ModelAdapters adapters,
      long deadline,
      AtomicInteger swaps,
      ConcurrentLinkedQueue<Throwable> f) {
    try {
      while (System.nanoTime() < deadline) {
        adapters.register("noise", loaded("gaussian_noise"), 1.0, true, false);
        adapters.update("noise", OptionalDouble.of(0.5), Optional.empty());
        adapters.register("blur", loaded("gaussian_blur"), 1.0, true, false);
        adapters.update("noise", OptionalDouble.empty(), Optional.of(false));
        adapters.remove("noise");
        adapters.remove("blur");
        swaps.addAndGet(6);
      }
    } catch (RuntimeException e) {
      f.add(e);
    }
  }

  /** The whole model patched offline as a label {@code a@x+b@y} says, run whole. */
  private float[] offline(String label, FloatTensor x) {
    OnnxModel clean = Fixtures.vggModel("clean");
    List<RwsPatch.Term> terms = new ArrayList<>();
    if (!label.equals("base")) {
      for (String term : label.split("\\+")) {
        String[] parts = term.split("@");
        String corruption = parts[0].equals("noise") ? "gaussian_noise" : "gaussian_blur";
        terms.add(new RwsPatch.Term(Fixtures.signature(corruption), Double.parseDouble(parts[1])));
      }
    }
    Path file = tmp.resolve("offline-" + label.replaceAll("[^a-z0-9]", "_") + ".onnx");
    (terms.isEmpty() ? clean : clean.withTensors(RwsPatch.apply(clean::floatTensor, terms)))
        .save(file);
    try (OrtModelRuntime whole =
        OrtModelRuntime.open("offline", ModelFile.read(file), ModelSettings.defaults())) {
      return whole.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
    }
  }

  private static SignatureSource.Loaded loaded(String corruption) {
    return SignatureSource.fromBody(Fixtures.signature(corruption).toByteArray());
  }
}

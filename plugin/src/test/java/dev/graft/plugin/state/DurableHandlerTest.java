package dev.graft.plugin.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.LocalGraft;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Durable state through the handler's HTTP API, with in-process restarts and replicas. */
class DurableHandlerTest {
  private static final String MODEL = "/models/mnist-vgg";

  @TempDir Path tmp;
  private Path store;

  @BeforeEach
  void layout() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    Fixtures.copyExampleModel(store);
    Files.write(store.resolve("noise.rws"), StateTestModel.bytes("gaussian_noise"));
  }

  @Test
  void aRestartedHandlerServesTheSameWeightsAndOutputs() throws Exception {
    String label;
    float[] before;
    try (LocalGraft first = LocalGraft.start(store, tmp, Map.of())) {
      ok(first.post(MODEL + "/adapters?name=noise&src=noise.rws&alpha=0.5", new byte[0]));
      ok(first.post(MODEL + "/adapters?name=blur", StateTestModel.bytes("gaussian_blur")));
      ok(first.post(MODEL + "/adapters/noise/update?alpha=0.75", new byte[0]));
      label = weights(first);
      before = logits(first);
    }

    try (LocalGraft second = LocalGraft.start(store, tmp, Map.of())) {
      assertThat(weights(second)).isEqualTo(label).isEqualTo("blur@1.0+noise@0.75");
      assertThat(logits(second))
          .as("outputs after the restart equal the outputs before it, bit for bit")
          .containsExactly(before);
      assertThat(problems(second)).isEmpty();
    }
  }

  @Test
  void describeReportsWhatCouldNotBeReplayedAndTheModelStillServes() throws Exception {
    try (LocalGraft first = LocalGraft.start(store, tmp, Map.of())) {
      ok(first.post(MODEL + "/adapters?name=noise&src=noise.rws", new byte[0]));
    }
    Files.delete(store.resolve("noise.rws"));

    try (LocalGraft second = LocalGraft.start(store, tmp, Map.of())) {
      assertThat(weights(second)).isEqualTo("base");
      assertThat(problems(second))
          .singleElement()
          .asString()
          .contains("adapter noise not loaded")
          .contains("no such file");
      assertThat(logits(second)).as("the model serves").hasSize(10);
    }
  }

  @Test
  void aSecondHandlerOnTheStoreConvergesWithinTwoSeconds() throws Exception {
    try (LocalGraft a = LocalGraft.start(store, tmp, Map.of());
        LocalGraft b = LocalGraft.start(store, tmp, Map.of())) {
      long start = System.nanoTime();
      ok(a.post(MODEL + "/adapters?name=noise&src=noise.rws&alpha=0.5", new byte[0]));

      Duration took = awaitWeights(b, "noise@0.5", Duration.ofSeconds(5));

      assertThat(took)
          .as("b serves a's change within 2 s")
          .isLessThanOrEqualTo(Duration.ofSeconds(2));
      assertThat(logits(b)).containsExactly(logits(a));
      System.out.printf("replica converged in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }
  }

  @Test
  void memoryModeWritesNothing() throws Exception {
    try (LocalGraft g = LocalGraft.start(store, tmp, Map.of("graft.state", "memory"))) {
      ok(g.post(MODEL + "/adapters?name=blur", StateTestModel.bytes("gaussian_blur")));
      assertThat(weights(g)).isEqualTo("blur@1.0");
    }
    assertThat(store.resolve("mnist-vgg/graft.json")).doesNotExist();
    assertThat(store.resolve("mnist-vgg/adapters")).doesNotExist();
  }

  private static Duration awaitWeights(LocalGraft g, String expected, Duration limit)
      throws Exception {
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    String seen = null;
    while (System.nanoTime() < deadline) {
      seen = weights(g);
      if (seen.equals(expected)) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // poll interval, not a sync
    }
    throw new AssertionError(
        "weights still " + seen + " after " + limit + ", expected " + expected);
  }

  private static void ok(HttpResponse<String> r) {
    assertThat(r.statusCode()).as("%s: %s", r.uri(), r.body()).isEqualTo(200);
  }

  private static String weights(LocalGraft g) throws Exception {
    HttpResponse<String> r = g.get(MODEL + "/adapters");
    ok(r);
    return LocalGraft.json(r).getAsJsonObject().get("weights").getAsString();
  }

  private static JsonArray problems(LocalGraft g) throws Exception {
    HttpResponse<String> r = g.get(MODEL);
    ok(r);
    return LocalGraft.json(r).getAsJsonArray().get(0).getAsJsonObject().getAsJsonArray("problems");
  }

  /** The model's logits on clean test image 0, computed by the handler's runtime. */
  private static float[] logits(LocalGraft g) {
    FloatTensor x = new FloatTensor("input", new long[] {1, 1, 28, 28}, Fixtures.testImages("", 1));
    return g.handler()
        .registry()
        .get("mnist-vgg")
        .runtime()
        .infer(Map.of("input", x), Set.of())
        .outputs()
        .get(0)
        .data();
  }
}

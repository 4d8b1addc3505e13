package dev.graft.it;

import static dev.graft.it.TorchScriptVgg.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The churn test of {@link AdapterChurnTest} on the TorchScript twin, whose parameters are patched
 * in place under a read-write lock: 8 clients infer for 20 s while another thread attaches,
 * re-scales and detaches two adapters in a loop. No request may fail, a request sent after a
 * management call returned must see its effect, and every response must be the output of the weight
 * state its {@code X-Graft-Weights} names: bit for bit the server's own answer for that state once
 * the churn is over (a torn patch would match no state), and within 1e-4 of ONNX Runtime on the
 * ONNX model patched offline with the same terms (and nearer to it than to any other state seen).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptAdapterChurnTest {
  private static final int CLIENTS = 8;
  private static final Duration DURATION = Duration.ofSeconds(20);
  private static final Map<String, String> SOURCES =
      Map.of(
          "gaussian_blur",
          "signatures/gaussian_blur.rws",
          "gaussian_noise",
          "signatures/gaussian_noise.rws");

  /** One management call of the cycle and the adapter state it leaves: alpha, or detached. */
  private record Step(String method, String path, String adapter, Double alpha) {}

  private record Observation(String weights, float[] logits) {}

  private GraftServer server;
  private final Batch batch = Vgg.images("gaussian_noise").batch(0, 16);

  @BeforeAll
  void start() {
    server = TorchScriptVgg.server(getClass().getSimpleName()).start();
    SOURCES.forEach((name, src) -> server.putFile(src, Signatures.forClean(name).toByteArray()));
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void inferenceDuringAdapterChurnNeverFailsAndMatchesTheNamedWeights() throws Exception {
    ConcurrentLinkedQueue<Observation> seen = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger cycles = new AtomicInteger();
    long deadline = System.nanoTime() + DURATION.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        tasks.add(pool.submit(() -> infer(deadline, seen, failures)));
      }
      tasks.add(pool.submit(() -> churn(deadline, cycles, failures)));
      for (Future<?> t : tasks) {
        t.get(DURATION.toSeconds() + 120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(failures).as("failed requests and stale states during churn").isEmpty();
    assertThat(cycles.get()).as("complete attach/re-scale/detach cycles").isGreaterThan(0);
    Map<String, List<float[]>> byWeights = new TreeMap<>();
    seen.forEach(
        o -> byWeights.computeIfAbsent(o.weights(), k -> new ArrayList<>()).add(o.logits()));
    assertThat(byWeights.keySet())
        .as("weight states the clients saw (%d responses)", seen.size())
        .contains("base")
        .hasSizeGreaterThan(2);

    System.out.printf(
        "TorchScript churn: %d responses in %d weight states, %d cycles, 0 failures%n",
        seen.size(), byWeights.size(), cycles.get());
    Map<String, float[]> quiet = new LinkedHashMap<>();
    Map<String, float[]> onnx = new LinkedHashMap<>();
    for (String weights : byWeights.keySet()) {
      quiet.put(weights, quietAnswer(weights));
      onnx.put(weights, onnxAnswer(weights));
    }
    for (Map.Entry<String, List<float[]>> e : byWeights.entrySet()) {
      String weights = e.getKey();
      for (float[] logits : e.getValue()) {
        Checks.assertBitwiseEqual(
            logits,
            quiet.get(weights),
            "a churn response headed '"
                + weights
                + "' vs the same"
                + " state served without churn");
      }
      assertThat(TorchScriptVgg.maxDifference(quiet.get(weights), onnx.get(weights)))
          .as("state %s: PyTorch vs ONNX Runtime on the ONNX model patched offline", weights)
          .isLessThanOrEqualTo(TorchScriptVgg.TOLERANCE);
      for (String other : byWeights.keySet()) {
        if (!other.equals(weights)) {
          assertThat(TorchScriptVgg.maxDifference(quiet.get(weights), onnx.get(other)))
              .as("state %s must be told apart from %s", weights, other)
              .isGreaterThan(100 * TorchScriptVgg.TOLERANCE);
        }
      }
    }
  }

  private void infer(
      long deadline, ConcurrentLinkedQueue<Observation> out, ConcurrentLinkedQueue<String> fails) {
    GraftClient client = server.client();
    while (System.nanoTime() < deadline) {
      try {
        GraftClient.Response r = client.inferRaw(MODEL, batch);
        if (r.status() != 200 || r.weights() == null) {
          fails.add("inference answered " + r);
        } else {
          out.add(new Observation(r.weights(), GraftClient.parseInference(r).logits()));
        }
      } catch (RuntimeException | AssertionError e) {
        fails.add("inference threw " + e);
      }
    }
  }

  private void churn(long deadline, AtomicInteger cycles, ConcurrentLinkedQueue<String> fails) {
    GraftClient client = server.client();
    String base = Vgg.adaptersPath(MODEL);
    List<Step> cycle =
        List.of(
            attach("gaussian_noise", 1.0),
            new Step("POST", base + "/gaussian_noise/update?alpha=0.5", "gaussian_noise", 0.5),
            attach("gaussian_blur", 1.0),
            new Step("POST", base + "/gaussian_blur/update?alpha=0.5", "gaussian_blur", 0.5),
            new Step("POST", base + "/gaussian_noise/update?alpha=1.0", "gaussian_noise", 1.0),
            new Step("POST", base + "/gaussian_noise/update?attach=false", "gaussian_noise", null),
            new Step("DELETE", base + "/gaussian_noise", "gaussian_noise", null),
            new Step("DELETE", base + "/gaussian_blur", "gaussian_blur", null));
    Map<String, Double> attached = new TreeMap<>();
    while (System.nanoTime() < deadline) {
      for (Step s : cycle) {
        try {
          GraftClient.Response r =
              s.method().equals("DELETE") ? client.delete(s.path()) : client.post(s.path());
          if (r.status() != 200) {
            fails.add(s.method() + " " + s.path() + " answered " + r);
            return;
          }
          if (s.alpha() == null) {
            attached.remove(s.adapter());
          } else {
            attached.put(s.adapter(), s.alpha());
          }
          String next = client.infer(MODEL, batch).weights();
          if (!header(attached).equals(next)) {
            fails.add("after " + s.path() + " returned, a request saw " + next);
          }
        } catch (RuntimeException | AssertionError e) {
          fails.add(s.method() + " " + s.path() + " threw " + e);
          return;
        }
      }
      cycles.incrementAndGet();
    }
  }

  private static Step attach(String adapter, double alpha) {
    return new Step(
        "POST",
        Vgg.adaptersPath(MODEL) + "?name=" + adapter + "&src=" + SOURCES.get(adapter),
        adapter,
        alpha);
  }

  /** The X-Graft-Weights value of an adapter set: sorted {@code name@alpha} joined by '+'. */
  private static String header(Map<String, Double> attached) {
    List<String> parts = new ArrayList<>();
    attached.forEach((name, alpha) -> parts.add(name + "@" + alpha));
    return parts.isEmpty() ? "base" : String.join("+", parts);
  }

  /** {@code name -> alpha} of a header. */
  private static Map<String, Double> parse(String weights) {
    Map<String, Double> terms = new TreeMap<>();
    if (!weights.equals("base")) {
      for (String part : weights.split("\\+")) {
        int at = part.lastIndexOf('@');
        terms.put(part.substring(0, at), Double.parseDouble(part.substring(at + 1)));
      }
    }
    return terms;
  }

  /** Puts the server into the state {@code weights} names, with nothing else running. */
  private float[] quietAnswer(String weights) {
    GraftClient client = server.client();
    Vgg.removeAllAdapters(client, MODEL);
    parse(weights)
        .forEach(
            (name, alpha) ->
                Checks.assertOk(
                    client.post(
                        Vgg.adaptersPath(MODEL)
                            + "?name="
                            + name
                            + "&src="
                            + SOURCES.get(name)
                            + "&alpha="
                            + alpha),
                    "attach " + name + "@" + alpha));
    GraftClient.Inference r = client.infer(MODEL, batch);
    assertThat(r.weights()).as("state set up for %s", weights).isEqualTo(weights);
    return r.logits();
  }

  private float[] onnxAnswer(String weights) {
    List<RwsPatch.Term> terms = new ArrayList<>();
    parse(weights)
        .forEach((name, alpha) -> terms.add(new RwsPatch.Term(Signatures.forClean(name), alpha)));
    try (OrtReference ort = OrtReference.patched(OnnxModel.load(Fixtures.vgg("clean")), terms)) {
      return ort.run(batch);
    }
  }
}

package dev.graft.it;

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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Live patching under load, for one {@link VggRuntime}: 8 clients infer for 20 s while another
 * thread attaches, re-scales and detaches two adapters in a loop. No request may fail, a request
 * sent after a management call returned must see its effect, and every response must be the output
 * of the weight state its {@code X-Graft-Weights} names: bit for bit the server's own answer for
 * that state once the churn is over (a torn patch would match no state), and ONNX Runtime's in this
 * JVM on the clean ONNX VGG patched offline with the same terms (bit for bit on ONNX Runtime,
 * within 1e-4 on PyTorch, and nearer to it than to any other state seen). Subclasses: {@link
 * OnnxAdapterChurnTest}, {@link TorchScriptAdapterChurnTest}.
 */
abstract class AdapterChurnSuite extends AbstractServerTest {
  private static final int CLIENTS = 8;
  private static final Duration DURATION = Duration.ofSeconds(20);
  private static final String NOISE = "gaussian_noise";
  private static final String BLUR = "gaussian_blur";
  private static final Map<String, String> SOURCES =
      Map.of(NOISE, "signatures/" + NOISE + ".rws", BLUR, "signatures/" + BLUR + ".rws");

  /** One management call of the cycle and the adapter state it leaves: alpha, or detached. */
  private record Step(String method, String path, String adapter, Double alpha) {}

  /** One client observation: the header and the outputs of a 200 response. */
  private record Observation(String weights, float[] logits) {}

  private final VggRuntime runtime;
  private final String model;
  private final Batch batch = Batch.of(Vgg.images(NOISE), 0, 16);

  AdapterChurnSuite(VggRuntime runtime) {
    this.runtime = runtime;
    this.model = runtime.model();
  }

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return runtime.server(name);
  }

  @BeforeAll
  void putSignatures() {
    SOURCES.forEach((name, src) -> server.putFile(src, Signatures.forClean(name).toByteArray()));
  }

  @Test
  void inferenceDuringAdapterChurnNeverFailsAndMatchesTheNamedWeights() throws Exception {
    ConcurrentLinkedQueue<Observation> observations = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger cycles = new AtomicInteger();
    long deadline = System.nanoTime() + DURATION.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        tasks.add(pool.submit(() -> infer(deadline, observations, failures)));
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
    observations.forEach(
        o -> byWeights.computeIfAbsent(o.weights(), k -> new ArrayList<>()).add(o.logits()));
    assertThat(byWeights.keySet())
        .as("weight states the clients saw (%d responses)", observations.size())
        .contains("base")
        .hasSizeGreaterThan(2);
    System.out.printf(
        "churn on %s: %d responses in %s, %d management cycles, states seen %s%n",
        runtime,
        observations.size(),
        DURATION,
        cycles.get(),
        byWeights.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().size()).toList());

    Map<String, float[]> quiet = new LinkedHashMap<>();
    Map<String, float[]> onnx = new LinkedHashMap<>();
    for (String weights : byWeights.keySet()) {
      quiet.put(weights, quietAnswer(weights));
      onnx.put(weights, onnxRuntimeAnswer(weights));
    }
    for (Map.Entry<String, List<float[]>> e : byWeights.entrySet()) {
      String weights = e.getKey();
      String what = "a churn response headed '" + weights + "' (" + e.getValue().size() + " such)";
      for (float[] logits : e.getValue()) {
        Checks.assertBitwiseEqual(
            logits, quiet.get(weights), what + " vs the same state served without churn");
        runtime.assertMatchesOnnxRuntime(
            logits, onnx.get(weights), what + " vs the ONNX model patched offline");
      }
      runtime.assertMatchesOnnxRuntime(
          quiet.get(weights),
          onnx.get(weights),
          "state " + weights + " served without churn vs the ONNX model patched offline");
      for (String other : byWeights.keySet()) {
        if (!other.equals(weights)) {
          assertThat(Checks.maxDifference(quiet.get(weights), onnx.get(other)))
              .as("state %s must be told apart from %s", weights, other)
              .isGreaterThan(100 * runtime.tolerance());
        }
      }
    }
  }

  private void infer(
      long deadline, ConcurrentLinkedQueue<Observation> out, ConcurrentLinkedQueue<String> fails) {
    GraftClient client = server.client();
    while (System.nanoTime() < deadline) {
      try {
        GraftClient.Response r = client.inferRaw(model, batch);
        if (r.status() != 200 || r.weights() == null) {
          fails.add("inference answered " + r + " weights=" + r.weights());
        } else {
          out.add(new Observation(r.weights(), GraftClient.parseInference(r).logits()));
        }
      } catch (RuntimeException | AssertionError e) {
        fails.add("inference threw " + e);
      }
    }
  }

  /** Attach, re-scale and detach in a loop; after each call, the next request must see it. */
  private void churn(long deadline, AtomicInteger cycles, ConcurrentLinkedQueue<String> fails) {
    GraftClient client = server.client();
    String adapters = Vgg.adaptersPath(model);
    List<Step> cycle =
        List.of(
            attach(NOISE, 1.0),
            new Step("POST", adapters + "/" + NOISE + "/update?alpha=0.5", NOISE, 0.5),
            attach(BLUR, 1.0),
            new Step("POST", adapters + "/" + BLUR + "/update?alpha=0.5", BLUR, 0.5),
            new Step("POST", adapters + "/" + NOISE + "/update?alpha=1.0", NOISE, 1.0),
            new Step("POST", adapters + "/" + NOISE + "/update?attach=false", NOISE, null),
            new Step("DELETE", adapters + "/" + NOISE, NOISE, null),
            new Step("DELETE", adapters + "/" + BLUR, BLUR, null));
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
          String expected = header(attached);
          String seen = client.infer(model, batch).weights();
          if (!expected.equals(seen)) {
            fails.add(
                "after "
                    + s.path()
                    + " returned, a new request saw "
                    + seen
                    + " instead of "
                    + expected);
          }
        } catch (RuntimeException | AssertionError e) {
          fails.add(s.method() + " " + s.path() + " threw " + e);
          return;
        }
      }
      cycles.incrementAndGet();
    }
  }

  private Step attach(String adapter, double alpha) {
    return new Step(
        "POST",
        Vgg.adaptersPath(model) + "?name=" + adapter + "&src=" + SOURCES.get(adapter),
        adapter,
        alpha);
  }

  /** The contract's header: adapters sorted by name as {@code name@alpha}, joined by '+'. */
  private static String header(Map<String, Double> attached) {
    List<String> parts = new ArrayList<>();
    attached.forEach((name, alpha) -> parts.add(name + "@" + alpha));
    return parts.isEmpty() ? "base" : String.join("+", parts);
  }

  /** {@code name -> alpha} of a header, in its (sorted) order; the names must be adapters used. */
  private static Map<String, Double> parse(String weights) {
    Map<String, Double> terms = new TreeMap<>();
    if (!weights.equals("base")) {
      for (String part : weights.split("\\+")) {
        int at = part.lastIndexOf('@');
        String name = part.substring(0, at);
        assertThat(SOURCES).as("adapter named in header %s", weights).containsKey(name);
        terms.put(name, Double.parseDouble(part.substring(at + 1)));
      }
    }
    return terms;
  }

  /** Puts the server into the state {@code weights} names, with nothing else running. */
  private float[] quietAnswer(String weights) {
    Vgg.removeAllAdapters(client, model);
    parse(weights)
        .forEach(
            (name, alpha) ->
                Checks.assertOk(
                    client.post(
                        Vgg.adaptersPath(model)
                            + "?name="
                            + name
                            + "&src="
                            + SOURCES.get(name)
                            + "&alpha="
                            + alpha),
                    "attach " + name + "@" + alpha));
    GraftClient.Inference r = client.infer(model, batch);
    assertThat(r.weights()).as("state set up for %s", weights).isEqualTo(weights);
    return r.logits();
  }

  /** ONNX Runtime in this JVM on the clean ONNX VGG patched offline with the header's terms. */
  private float[] onnxRuntimeAnswer(String weights) {
    List<RwsPatch.Term> terms = new ArrayList<>();
    parse(weights)
        .forEach((name, alpha) -> terms.add(new RwsPatch.Term(Signatures.forClean(name), alpha)));
    try (OrtReference ort = OrtReference.patched(OnnxModel.load(Fixtures.vgg("clean")), terms)) {
      return ort.run(batch);
    }
  }
}

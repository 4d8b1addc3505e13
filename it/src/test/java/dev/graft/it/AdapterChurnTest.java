package dev.graft.it;

import static dev.graft.it.Fixtures.VGG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
 * Live patching under load: 8 clients infer for 20 s while another thread attaches, re-scales and
 * detaches two adapters in a loop. No request may fail, and every response must be exactly the
 * output of the weights its {@code X-Graft-Weights} header names, computed independently of the
 * server by ONNX Runtime in this JVM on the clean VGG patched offline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdapterChurnTest {
  private static final int CLIENTS = 8;
  private static final Duration DURATION = Duration.ofSeconds(20);
  private static final String NOISE = "gaussian_noise";
  private static final String BLUR = "gaussian_blur";

  private GraftServer server;
  private final Batch batch = Vgg.images(NOISE).batch(0, 16);

  /** One client observation: the header and the outputs of a 200 response. */
  private record Observation(String weights, float[] logits) {}

  @BeforeAll
  void start() {
    server =
        GraftServer.builder(getClass().getSimpleName()).exampleModel(VGG).loadModels(VGG).start();
    server.putFile("signatures/" + NOISE + ".rws", Signatures.forClean(NOISE).toByteArray());
    server.putFile("signatures/" + BLUR + ".rws", Signatures.forClean(BLUR).toByteArray());
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void inferenceDuringAdapterChurnNeverFailsAndMatchesTheNamedWeights() throws Exception {
    ConcurrentLinkedQueue<Observation> observations = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger cycles = new AtomicInteger();
    long deadline = System.nanoTime() + DURATION.toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
    List<Future<?>> tasks = new ArrayList<>();
    try {
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

    assertThat(failures).as("failed requests and wrong states during churn").isEmpty();
    assertThat(cycles.get()).as("complete attach/re-scale/detach cycles").isGreaterThan(0);
    Map<String, List<Observation>> byWeights = new TreeMap<>();
    for (Observation o : observations) {
      byWeights.computeIfAbsent(o.weights(), k -> new ArrayList<>()).add(o);
    }
    assertThat(byWeights.keySet())
        .as("weight states the clients saw (%d responses)", observations.size())
        .contains("base")
        .hasSizeGreaterThan(2);
    System.out.printf(
        "churn: %d responses in %s, %d management cycles, states seen %s%n",
        observations.size(),
        DURATION,
        cycles.get(),
        byWeights.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().size()).toList());
    OnnxModel clean = OnnxModel.load(Fixtures.vgg("clean"));
    for (Map.Entry<String, List<Observation>> e : byWeights.entrySet()) {
      float[] expected;
      try (OrtReference ort = OrtReference.patched(clean, terms(e.getKey()))) {
        expected = ort.run(batch);
      }
      for (Observation o : e.getValue()) {
        Checks.assertBitwiseEqual(
            o.logits(),
            expected,
            "a response headed '" + e.getKey() + "' (" + e.getValue().size() + " such)");
      }
    }
  }

  private void infer(
      long deadline, ConcurrentLinkedQueue<Observation> out, ConcurrentLinkedQueue<String> fails) {
    GraftClient client = server.client();
    while (System.nanoTime() < deadline) {
      try {
        GraftClient.Response r = client.inferRaw(VGG, batch);
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
    String adapters = Vgg.adaptersPath(VGG);
    Map<String, Double> attached = new TreeMap<>();
    while (System.nanoTime() < deadline) {
      List<Step> steps =
          List.of(
              new Step(
                  "POST",
                  adapters + "?name=" + NOISE + "&src=signatures/" + NOISE + ".rws",
                  NOISE,
                  1.0),
              new Step("POST", adapters + "/" + NOISE + "/update?alpha=0.5", NOISE, 0.5),
              new Step(
                  "POST",
                  adapters + "?name=" + BLUR + "&src=signatures/" + BLUR + ".rws",
                  BLUR,
                  1.0),
              new Step("POST", adapters + "/" + BLUR + "/update?alpha=0.5", BLUR, 0.5),
              new Step("POST", adapters + "/" + NOISE + "/update?alpha=1.0", NOISE, 1.0),
              new Step("POST", adapters + "/" + NOISE + "/update?attach=false", NOISE, null),
              new Step("DELETE", adapters + "/" + NOISE, NOISE, null),
              new Step("DELETE", adapters + "/" + BLUR, BLUR, null));
      for (Step s : steps) {
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
          String seen = client.infer(VGG, batch).weights();
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

  private record Step(String method, String path, String adapter, Double alpha) {}

  /** The contract's header: adapters sorted by name as {@code name@alpha}, joined by '+'. */
  private static String header(Map<String, Double> attached) {
    if (attached.isEmpty()) {
      return "base";
    }
    List<String> parts = new ArrayList<>();
    attached.forEach((name, alpha) -> parts.add(name + "@" + alpha));
    return String.join("+", parts);
  }

  /** The patch terms a header names, in its (sorted) order. */
  private static List<RwsPatch.Term> terms(String header) {
    if (header.equals("base")) {
      return List.of();
    }
    Map<String, RwsSignature> signatures = new LinkedHashMap<>();
    signatures.put(NOISE, Signatures.forClean(NOISE));
    signatures.put(BLUR, Signatures.forClean(BLUR));
    List<RwsPatch.Term> terms = new ArrayList<>();
    for (String part : header.split("\\+")) {
      int at = part.lastIndexOf('@');
      RwsSignature sig = signatures.get(part.substring(0, at));
      assertThat(sig).as("adapter named in header %s", header).isNotNull();
      terms.add(new RwsPatch.Term(sig, Double.parseDouble(part.substring(at + 1))));
    }
    return Collections.unmodifiableList(terms);
  }
}

package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A head changing under load: for 10 s, 4 clients call {@code /v2/models/{m}/infer} and one calls
 * {@code /predictions/{m}} while another adds head-task1 and head-task2 and rolls both back, over
 * and over. No request may fail, and no response may mix two head versions: each must have as many
 * logit columns as the version named by its {@code X-Graft-Weights} has classes, and exactly that
 * version's logits of the features returned with it (the versions are recomputed in this JVM with
 * onnx-tools' {@link IncrementalStep}).
 */
class HeadChurnTest extends AbstractServerTest {
  private static final int CLIENTS = 4;
  private static final int BATCH = 8;
  private static final Duration DURATION = Duration.ofSeconds(10);
  private static final Pattern TAG = Pattern.compile("base;head:digits@v(\\d+)");

  private final Batch batch = Vgg.probe(BATCH);
  private final Map<Integer, ClassifierHead> headOfClassCount = headsByClassCount();

  /** What a client saw: the head version in the header and the classes of the answer. */
  private record Seen(int version, int classes) {}

  /** What a predictions client saw: the head version in the header and the top-k labels. */
  private record Predicted(int version, List<String> top) {}

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name).exampleModel(Wa.MODEL).loadModels(Wa.MODEL);
  }

  @Test
  void inferenceWhileClassesAreAddedNeverFailsAndNeverMixesHeadVersions() throws Exception {
    Wa.HeadOutputs probe = Wa.outputs(Checks.assertOk(client.inferRaw(Wa.MODEL, batch), "probe"));
    float[] firstImageFeatures = Arrays.copyOf(probe.features(), 64);
    byte[] png = Vgg.png(Vgg.images(null), 0);
    Map<Integer, Integer> classesOfVersion = new ConcurrentHashMap<>(Map.of(1, 4));
    ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Predicted> predicted = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger changes = new AtomicInteger();
    long deadline = System.nanoTime() + DURATION.toNanos();

    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 2);
    List<Future<Integer>> clients = new ArrayList<>();
    try {
      for (int c = 0; c < CLIENTS; c++) {
        clients.add(pool.submit(() -> infer(client, deadline, seen, failures)));
      }
      clients.add(pool.submit(() -> predict(client, png, deadline, predicted, failures)));
      Future<?> writer =
          pool.submit(() -> churn(client, deadline, classesOfVersion, changes, failures));
      int requests = 0;
      for (Future<Integer> f : clients) {
        requests += f.get(DURATION.toSeconds() + 120, TimeUnit.SECONDS);
      }
      writer.get(120, TimeUnit.SECONDS);

      System.out.printf(
          "WA churn: %d inference requests during %d head changes, %d failed or mixed%n",
          requests, changes.get(), failures.size());
      assertThat(failures).as("failed or mixed answers of %d", requests).isEmpty();
      assertThat(seen)
          .as("each header's version has the class count it was created with")
          .allSatisfy(
              s ->
                  assertThat(s.classes())
                      .as("classes of v%d", s.version())
                      .isEqualTo(classesOfVersion.get(s.version())));
      assertThat(predicted)
          .as("/predictions answered the top-5 labels of the version in its header")
          .allSatisfy(
              p ->
                  assertThat(p.top())
                      .as("v%d", p.version())
                      .isEqualTo(
                          top5(
                              headOfClassCount
                                  .get(classesOfVersion.get(p.version()))
                                  .logits(firstImageFeatures, 1))));
      assertThat(seen.stream().map(Seen::classes).distinct().count())
          .as("the clients overlapped the changes: answers with 4, 7 and 10 classes")
          .isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }

  private int infer(
      GraftClient client,
      long deadline,
      ConcurrentLinkedQueue<Seen> seen,
      ConcurrentLinkedQueue<String> failures) {
    int n = 0;
    for (; System.nanoTime() < deadline; n++) {
      GraftClient.Response r = client.inferRaw(Wa.MODEL, batch);
      Matcher m = r.weights() == null ? null : TAG.matcher(r.weights());
      if (r.status() != 200 || m == null || !m.matches()) {
        failures.add("v2: " + r.weights() + " " + r);
        continue;
      }
      Wa.HeadOutputs out = Wa.outputs(r);
      ClassifierHead head = headOfClassCount.get(out.classes());
      if (out.shape()[0] != BATCH
          || head == null
          || out.logits().length != BATCH * head.classes()) {
        failures.add(r.weights() + ": shape " + Arrays.toString(out.shape()));
      } else if (Checks.differs(out.logits(), head.logits(out.features(), BATCH))) {
        failures.add(r.weights() + ": logits of no single version with " + out.classes());
      }
      seen.add(new Seen(Integer.parseInt(m.group(1)), out.classes()));
    }
    return n;
  }

  private static int predict(
      GraftClient client,
      byte[] png,
      long deadline,
      ConcurrentLinkedQueue<Predicted> predicted,
      ConcurrentLinkedQueue<String> failures) {
    int n = 0;
    for (; System.nanoTime() < deadline; n++) {
      GraftClient.Response r = client.post("/predictions/" + Wa.MODEL, "image/png", png);
      Matcher m = r.weights() == null ? null : TAG.matcher(r.weights());
      if (r.status() != 200 || m == null || !m.matches()) {
        failures.add("predictions: " + r.weights() + " " + r);
        continue;
      }
      List<String> top = new ArrayList<>();
      for (JsonElement e : r.json().getAsJsonArray()) {
        top.add(e.getAsJsonObject().get("className").getAsString());
      }
      predicted.add(new Predicted(Integer.parseInt(m.group(1)), top));
    }
    return n;
  }

  /** Adds head-task1 and head-task2, then rolls both back, until the deadline. */
  private static void churn(
      GraftClient client,
      long deadline,
      Map<Integer, Integer> classesOfVersion,
      AtomicInteger changes,
      ConcurrentLinkedQueue<String> failures) {
    try {
      while (System.nanoTime() < deadline) {
        for (int task = 1; task <= 2; task++) {
          JsonObject v = Wa.addClasses(client, Wa.MODEL, task, "wa");
          classesOfVersion.put(v.get("version").getAsInt(), v.get("classes").getAsInt());
          changes.incrementAndGet();
        }
        for (int back = 0; back < 2; back++) {
          Checks.assertOk(client.post(Wa.headPath(Wa.MODEL) + "/rollback"), "rollback");
          changes.incrementAndGet();
        }
      }
    } catch (RuntimeException | AssertionError e) {
      failures.add("head change failed: " + e);
    }
  }

  /** The three head states: head-task0, then each step with Weight Aligning, by class count. */
  private static Map<Integer, ClassifierHead> headsByClassCount() {
    ClassifierHead v1 = ClassifierHead.read(Fixtures.fixture("wa/head-task0.safetensors"));
    ClassifierHead v2 = step(v1, 1);
    ClassifierHead v3 = step(v2, 2);
    return Map.of(4, v1, 7, v2, 10, v3);
  }

  private static ClassifierHead step(ClassifierHead current, int task) {
    ClassifierHead file =
        ClassifierHead.read(Fixtures.fixture("wa/head-task" + task + ".safetensors"));
    return IncrementalStep.apply(current, file, AlignMode.WA).head();
  }

  /** The top-5 labels of one row of logits (the heads' labels are "0".."C-1" in row order). */
  private static List<String> top5(float[] logits) {
    List<Integer> order = new ArrayList<>();
    for (int c = 0; c < logits.length; c++) {
      order.add(c);
    }
    order.sort((a, b) -> Float.compare(logits[b], logits[a]));
    return order.subList(0, Math.min(5, logits.length)).stream().map(String::valueOf).toList();
  }
}

package dev.graft.durable;

import static dev.graft.durable.RestartTest.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host restarted, gracefully or by {@code kill -9} during a head change, serves the head version
 * its {@code graft.json} names, with the same logits; a corrupt version file is reported, not
 * fatal.
 */
class HeadRestartTest {
  private static final String OCTETS = "application/octet-stream";

  @TempDir Path tmp;

  @Test
  void aRestartedHostServesTheSameHeadVersionAndLogitsBitForBit() throws Exception {
    Path store = Repo.newStore(tmp, WaOracle.MODEL);
    String tag;
    float[][] before;
    JsonObject history;
    try (HostProcess a = start("head-restart-a", store)) {
      addClasses(a, 1, "wa"); // v2
      addClasses(a, 2, "none"); // v3
      ok(a.http().post(WaOracle.HEAD + "/rollback", new byte[0])); // v2
      addClasses(a, 2, "wa"); // v4, a second branch from v2
      tag = "base;head:digits@v4";
      before = Oracle.rows(infer(a, tag));
      history = historyOf(a);
    }

    try (HostProcess b = start("head-restart-b", store)) {
      assertThat(Oracle.rows(infer(b, tag)))
          .as("logits after the restart equal those before it, bit for bit")
          .isDeepEqualTo(before);
      assertThat(historyOf(b))
          .as("versions, parents, creation times, steps and γ survive the restart")
          .isEqualTo(history);
      assertThat(problems(b)).isEmpty();

      ok(b.http().post(WaOracle.HEAD + "/rollback", new byte[0]));
      ClassifierHead v2 = WaOracle.step(WaOracle.task(0), 1, AlignMode.WA);
      assertRows(
          Oracle.rows(infer(b, "base;head:digits@v2")),
          WaOracle.logits(v2),
          "after the restart, rollback reaches v2");
    }
  }

  @Test
  void killedDuringAHeadChangeRestartsIntoTheVersionTheManifestNames() throws Exception {
    Path store = Repo.newStore(tmp, WaOracle.MODEL);
    Map<Integer, ClassifierHead> heads = new HashMap<>();
    heads.put(1, WaOracle.task(0));
    heads.put(2, WaOracle.step(heads.get(1), 1, AlignMode.WA));
    heads.put(3, WaOracle.step(heads.get(2), 2, AlignMode.WA));
    heads.put(4, WaOracle.step(heads.get(2), 2, AlignMode.NONE));
    List<Change> changes =
        List.of(
            new Change("add task 1 (wa)", 1, 2, h -> post(h, "/classes?align=wa", 1)),
            new Change("add task 2 (wa)", 2, 3, h -> post(h, "/classes?align=wa", 2)),
            new Change("roll back", 3, 2, h -> post(h, "/rollback", -1)),
            new Change("add task 2 (none)", 2, 4, h -> post(h, "/classes?align=none", 2)));
    int killedBeforeTheAnswer = 0;
    List<String> served = new ArrayList<>();
    HostProcess host = start("head-kill-0", store);
    try {
      for (int i = 0; i < changes.size(); i++) {
        Change c = changes.get(i);
        long version = WaOracle.recorded(store).manifestVersion();
        CompletableFuture<HttpResponse<String>> answer = c.send().apply(host.http());
        boolean answered =
            host.killWhen(
                () -> WaOracle.manifestVersionNow(store) > version,
                c.name() + " written to graft.json",
                answer);
        killedBeforeTheAnswer += answered ? 0 : 1;

        host = start("head-kill-" + (i + 1), store);
        WaOracle.Recorded onDisk = WaOracle.recorded(store);
        assertThat(onDisk.manifestVersion()).as("%s: one write", c.name()).isEqualTo(version + 1);
        int v = onDisk.current();
        assertThat(v)
            .as("%s: the manifest holds the old or the new version", c.name())
            .isIn(c.before(), c.after());
        String tag = "base;head:digits@v" + v;
        assertRows(
            Oracle.rows(infer(host, tag)),
            WaOracle.logits(heads.get(v)),
            c.name() + ": logits of v" + v);
        assertThat(problems(host)).as(c.name()).isEmpty();
        assertThat(v).as("%s: written means applied at the restart", c.name()).isEqualTo(c.after());
        served.add(tag);
      }
    } finally {
      host.close();
    }
    System.out.printf(
        "kill -9 during a head change: %d of %d kills landed before the client got its answer;"
            + " restarts served %s%n",
        killedBeforeTheAnswer, changes.size(), served);
  }

  @Test
  void aCorruptHeadFileIsReportedAndTheHostServesTheLastGoodVersion() throws Exception {
    Path store = Repo.newStore(tmp, WaOracle.MODEL);
    try (HostProcess a = start("head-corrupt-a", store)) {
      addClasses(a, 1, "wa");
      addClasses(a, 2, "wa");
    }
    Path v3 = WaOracle.recorded(store).file(store, 3);
    byte[] bytes = Files.readAllBytes(v3);
    bytes[bytes.length - 1] ^= 0x40;
    Files.write(v3, bytes);

    try (HostProcess b = start("head-corrupt-b", store)) {
      ClassifierHead v2 = WaOracle.step(WaOracle.task(0), 1, AlignMode.WA);
      assertRows(
          Oracle.rows(infer(b, "base;head:digits@v2")),
          WaOracle.logits(v2),
          "v3's parent is served");
      assertThat(problems(b))
          .anySatisfy(p -> assertThat(p).contains("v3 not loaded").contains("the file changed"))
          .anySatisfy(p -> assertThat(p).contains("serving v2 instead of v3"));
    }
  }

  /** A head change, the current version before and after it, and how to send it. */
  private record Change(
      String name,
      int before,
      int after,
      Function<Http, CompletableFuture<HttpResponse<String>>> send) {}

  /** POSTs {@code HEAD + path} with head-task{@code task} as the body (none when negative). */
  private static CompletableFuture<HttpResponse<String>> post(Http h, String path, int task) {
    byte[] body = task < 0 ? new byte[0] : WaOracle.taskBytes(task);
    HttpRequest.Builder b =
        h.builder(WaOracle.HEAD + path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    return h.sendAsync(b.header("Content-Type", OCTETS));
  }

  static void addClasses(HostProcess h, int task, String align) {
    ok(h.http().post(WaOracle.HEAD + "/classes?align=" + align, WaOracle.taskBytes(task)));
  }

  static HostProcess start(String name, Path store) {
    return awaitReady(HostProcess.start(name, store, Map.of(), Map.of(), null));
  }

  static HostProcess start(String name, Path store, Map<String, String> config) {
    return awaitReady(HostProcess.start(name, store, config, Map.of(), null));
  }

  static HostProcess awaitReady(HostProcess h) {
    Poll.until(
        Duration.ofSeconds(60),
        Duration.ofMillis(50),
        "model ready",
        () ->
            h.http().get("/v2/models/" + WaOracle.MODEL + "/ready").status() == 200 ? true : null);
    return h;
  }

  /** The first images through {@code /v2}; asserts the head version that computed them. */
  static Http.Response infer(HostProcess h, String weights) {
    Http.Response r =
        h.http().postJson("/v2/models/" + WaOracle.MODEL + "/infer", Oracle.inferRequest());
    ok(r);
    assertThat(r.weights()).as("X-Graft-Weights of the inference").isEqualTo(weights);
    return r;
  }

  /** {@code problems} of {@code GET /models/mnist-wa}. */
  static List<String> problems(HostProcess h) {
    Http.Response r = h.http().get("/models/" + WaOracle.MODEL);
    ok(r);
    List<String> out = new ArrayList<>();
    r.json()
        .getAsJsonArray()
        .get(0)
        .getAsJsonObject()
        .getAsJsonArray("problems")
        .forEach(p -> out.add(p.getAsString()));
    return out;
  }

  static JsonObject historyOf(HostProcess h) {
    Http.Response r = h.http().get(WaOracle.HEAD + "/history");
    ok(r);
    return r.json().getAsJsonObject();
  }

  /** Served logits against the offline oracle (ONNX Runtime may round features differently). */
  static void assertRows(float[][] served, float[][] expected, String what) {
    assertThat(served.length).as(what).isEqualTo(expected.length);
    for (int r = 0; r < served.length; r++) {
      assertThat(served[r]).as("%s: image %d", what, r).containsExactly(expected[r], within(1e-4f));
    }
  }
}

package dev.graft.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host restarted, gracefully or by {@code kill -9}, serves what its manifest says. */
class RestartTest {
  private static final String M = "/models/" + StoreState.MODEL;
  private static final Map<String, String> CORRUPTION =
      Map.of("noise", "gaussian_noise", "blur", "gaussian_blur");

  @TempDir Path tmp;

  @Test
  void aRestartedHostServesExactlyWhatItServedBefore() throws Exception {
    Path store = Repo.newStore(tmp);
    Files.write(store.resolve("noise.rws"), Oracle.signature("gaussian_noise").toByteArray());
    String label;
    float[][] before;
    try (HostProcess a = start("restart-a", store)) {
      ok(a.http().post(M + "/adapters?name=noise&src=noise.rws&alpha=0.5", new byte[0]));
      ok(a.http().post(M + "/adapters?name=blur", Oracle.signature("gaussian_blur").toByteArray()));
      ok(a.http().post(M + "/adapters/noise/update?alpha=0.75", new byte[0]));
      label = weights(a);
      before = Oracle.rows(infer(a, label));
    }

    try (HostProcess b = start("restart-b", store)) {
      assertThat(weights(b)).isEqualTo(label).isEqualTo("blur@1.0+noise@0.75");
      assertThat(Oracle.rows(infer(b, label)))
          .as("outputs after the restart equal those before it, bit for bit")
          .isDeepEqualTo(before);
      assertThat(problems(b)).isEmpty();
    }
  }

  @Test
  void killedRightAfterTheManifestWriteRestartsIntoTheNewState() throws Exception {
    Path store = Repo.newStore(tmp);
    Files.write(store.resolve("blur.rws"), Oracle.signature("gaussian_blur").toByteArray());
    byte[] noise = Oracle.signature("gaussian_noise").toByteArray();
    List<Change> changes =
        List.of(
            new Change(
                "upload noise@0.5",
                "noise@0.5",
                h -> post(h, M + "/adapters?name=noise&alpha=0.5", noise)),
            new Change(
                "attach blur",
                "blur@1.0+noise@0.5",
                h -> post(h, M + "/adapters?name=blur&src=blur.rws", new byte[0])),
            new Change(
                "rescale noise",
                "blur@1.0+noise@1.25",
                h -> post(h, M + "/adapters/noise/update?alpha=1.25", new byte[0])),
            new Change(
                "detach blur",
                "noise@1.25",
                h -> post(h, M + "/adapters/blur/update?attach=false", new byte[0])),
            new Change(
                "delete noise",
                "base",
                h -> h.sendAsync(h.builder(M + "/adapters/noise").DELETE())));
    int killedBeforeTheAnswer = 0;
    HostProcess host = start("kill-0", store);
    try {
      for (int i = 0; i < changes.size(); i++) {
        Change c = changes.get(i);
        long version = StoreState.read(store).version();
        CompletableFuture<HttpResponse<String>> answer = c.send().apply(host.http());
        boolean answered =
            host.killWhen(
                () -> StoreState.versionNow(store) > version,
                c.name() + " written to graft.json",
                answer);
        killedBeforeTheAnswer += answered ? 0 : 1;

        host = start("kill-" + (i + 1), store);
        StoreState onDisk = StoreState.read(store);
        assertThat(onDisk.version())
            .as("%s: one write per change", c.name())
            .isEqualTo(version + 1);
        assertThat(onDisk.label())
            .as("%s: the manifest holds the change", c.name())
            .isEqualTo(c.after());
        assertThat(weights(host))
            .as("%s: the restarted host serves the manifest", c.name())
            .isEqualTo(c.after());
        assertThat(problems(host)).as(c.name()).isEmpty();
        float[][] served = Oracle.rows(infer(host, c.after()));
        float[][] expected = Oracle.logits(c.after(), CORRUPTION);
        for (int r = 0; r < served.length; r++) {
          assertThat(served[r])
              .as("%s: image %d computed by the weights %s names", c.name(), r, c.after())
              .containsExactly(expected[r], within(1e-4f));
        }
      }
    } finally {
      host.close();
    }
    System.out.printf(
        "kill -9 during a change: %d of %d kills landed before the client got its answer;"
            + " every restart served the manifest's state%n",
        killedBeforeTheAnswer, changes.size());
  }

  /** A management call, the weights it leads to, and how to send it without waiting. */
  private record Change(
      String name, String after, Function<Http, CompletableFuture<HttpResponse<String>>> send) {}

  private static CompletableFuture<HttpResponse<String>> post(Http h, String path, byte[] body) {
    HttpRequest.Builder b = h.builder(path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    return h.sendAsync(b.header("Content-Type", "application/octet-stream"));
  }

  static HostProcess start(String name, Path store) {
    return awaitReady(HostProcess.start(name, store, Map.of(), Map.of(), null));
  }

  static HostProcess awaitReady(HostProcess h) {
    Poll.until(
        Duration.ofSeconds(60),
        Duration.ofMillis(50),
        "model ready",
        () -> h.http().get("/v2/models/mnist-vgg/ready").status() == 200 ? true : null);
    return h;
  }

  static Http.Response infer(HostProcess h, String label) {
    Http.Response r = h.http().postJson("/v2/models/mnist-vgg/infer", Oracle.inferRequest());
    ok(r);
    assertThat(r.weights()).as("X-Graft-Weights of the inference").isEqualTo(label);
    return r;
  }

  static String weights(HostProcess h) {
    Http.Response r = h.http().get(M + "/adapters");
    ok(r);
    return r.json().getAsJsonObject().get("weights").getAsString();
  }

  static List<String> problems(HostProcess h) {
    Http.Response r = h.http().get(M);
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

  static void ok(Http.Response r) {
    assertThat(r.status()).as("%s -> %s", r.raw().uri(), r.body()).isEqualTo(200);
  }
}

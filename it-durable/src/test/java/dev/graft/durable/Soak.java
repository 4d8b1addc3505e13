package dev.graft.durable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak: a host process under mixed inference and adapter churn for a while (10 minutes by
 * default), reporting failed requests and the host's resident memory. Not a test the build runs;
 * see docs/deployment.md:
 *
 * <pre>
 * mvn -B -pl onnx-tools,djl-serving-spi,host,plugin -am package -DskipTests
 * mvn -B -q -pl it-durable test-compile exec:java -Dexec.mainClass=dev.graft.durable.Soak \
 *     [-Dsoak.seconds=600] [-Dsoak.clients=4]
 * </pre>
 *
 * <p>Clients send KServe v2 requests (4 images each) and check every answer against the offline
 * oracle for the weights its {@code X-Graft-Weights} header names; one thread cycles adapters
 * (upload, attach from the store, re-scale, detach, delete), each change written to graft.json.
 * Exits 1 when any request failed or resident memory grew by more than 10% over the second half.
 */
public final class Soak {
  private static final String M = "/models/" + StoreState.MODEL;
  private static final Map<String, String> CORRUPTION =
      Map.of("noise", "gaussian_noise", "blur", "gaussian_blur");

  private Soak() {}

  public static void main(String[] args) throws Exception {
    Duration length = Duration.ofSeconds(Long.getLong("soak.seconds", 600));
    int clients = Integer.getInteger("soak.clients", 4);
    Path work = Files.createTempDirectory("graft-soak-");
    Path store = Repo.newStore(work);
    Files.write(store.resolve("blur.rws"), Oracle.signature("gaussian_blur").toByteArray());
    byte[] noise = Oracle.signature("gaussian_noise").toByteArray();
    for (String label : labels()) {
      Oracle.logits(label, CORRUPTION); // the oracle is ready before the clock starts
    }
    AtomicLong requests = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong changes = new AtomicLong();
    try (HostProcess host = RestartTest.start("soak", store)) {
      long end = System.nanoTime() + length.toNanos();
      CountDownLatch done = new CountDownLatch(clients + 1);
      for (int i = 0; i < clients; i++) {
        daemon("client-" + i, done, () -> infer(host, end, requests, failed));
      }
      daemon("churn", done, () -> churn(host, noise, end, changes, failed));
      List<long[]> rss = new ArrayList<>();
      long start = System.nanoTime();
      while (done.getCount() > 0) {
        done.await(10, java.util.concurrent.TimeUnit.SECONDS); // sampling period, not a sync
        long t = (System.nanoTime() - start) / 1_000_000_000L;
        rss.add(new long[] {t, host.rssKib()});
        System.out.printf(
            "t=%4d s  requests=%d  failed=%d  changes=%d  rss=%d MiB  manifest v%d%n",
            t,
            requests.get(),
            failed.get(),
            changes.get(),
            host.rssKib() / 1024,
            StoreState.versionNow(store));
      }
      boolean flat = report(rss, requests.get(), failed.get(), changes.get(), length);
      System.exit(failed.get() == 0 && flat ? 0 : 1);
    }
  }

  private static void infer(HostProcess host, long end, AtomicLong requests, AtomicLong failed) {
    String body = Oracle.inferRequest();
    while (System.nanoTime() < end) {
      requests.incrementAndGet();
      try {
        Http.Response r = host.http().postJson("/v2/models/mnist-vgg/infer", body);
        if (r.status() != 200 || !matches(Oracle.rows(r), Oracle.logits(r.weights(), CORRUPTION))) {
          failed.incrementAndGet();
          System.out.println("FAILED inference: " + r.status() + " " + r.weights());
        }
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        System.out.println("FAILED inference: " + e);
      }
    }
  }

  private static void churn(
      HostProcess host, byte[] noise, long end, AtomicLong changes, AtomicLong failed) {
    List<String[]> cycle =
        List.of(
            new String[] {"POST", M + "/adapters?name=noise&alpha=0.5", "upload"},
            new String[] {"POST", M + "/adapters?name=blur&src=blur.rws", ""},
            new String[] {"POST", M + "/adapters/noise/update?alpha=1.0", ""},
            new String[] {"POST", M + "/adapters/blur/update?attach=false", ""},
            new String[] {"DELETE", M + "/adapters/noise", ""},
            new String[] {"DELETE", M + "/adapters/blur", ""});
    for (int i = 0; System.nanoTime() < end; i = (i + 1) % cycle.size()) {
      String[] c = cycle.get(i);
      try {
        Http.Response r =
            c[0].equals("DELETE")
                ? host.http().delete(c[1])
                : host.http().post(c[1], c[2].isEmpty() ? new byte[0] : noise);
        changes.incrementAndGet();
        if (r.status() != 200) {
          failed.incrementAndGet();
          System.out.println("FAILED change " + c[1] + ": " + r.status() + " " + r.body());
        }
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        System.out.println("FAILED change " + c[1] + ": " + e);
      }
    }
  }

  /** Every label the churn cycle passes through. */
  private static List<String> labels() {
    return List.of(
        "base", "noise@0.5", "blur@1.0+noise@0.5", "blur@1.0+noise@1.0", "noise@1.0", "blur@1.0");
  }

  private static boolean matches(float[][] served, float[][] expected) {
    for (int r = 0; r < served.length; r++) {
      for (int k = 0; k < served[r].length; k++) {
        if (Math.abs(served[r][k] - expected[r][k]) > 1e-4f) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean report(
      List<long[]> rss, long requests, long failed, long changes, Duration length) {
    List<long[]> secondHalf =
        rss.stream().filter(s -> s[0] >= length.toSeconds() / 2 && s[1] > 0).toList();
    long first = secondHalf.isEmpty() ? -1 : secondHalf.get(0)[1];
    long last = secondHalf.isEmpty() ? -1 : secondHalf.get(secondHalf.size() - 1)[1];
    long max = rss.stream().mapToLong(s -> s[1]).max().orElse(-1);
    double growth = first > 0 ? (last - first) * 100.0 / first : 0;
    System.out.printf(
        "SOAK %d s: %d requests, %d failed, %d adapter changes; RSS second half %d -> %d MiB"
            + " (%+.1f%%), max %d MiB%n",
        length.toSeconds(),
        requests,
        failed,
        changes,
        first / 1024,
        last / 1024,
        growth,
        max / 1024);
    return growth <= 10.0;
  }

  private static void daemon(String name, CountDownLatch done, Runnable body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } finally {
                done.countDown();
              }
            },
            "soak-" + name);
    t.setDaemon(true);
    t.start();
  }
}

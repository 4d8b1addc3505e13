package dev.graft.durable;

import static dev.graft.durable.RestartTest.infer;
import static dev.graft.durable.RestartTest.ok;
import static dev.graft.durable.RestartTest.weights;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two hosts on loopback sharing one model store converge on its manifest. */
class ReplicaTest {
  private static final String M = "/models/" + StoreState.MODEL;
  private static final Duration LIMIT = Duration.ofSeconds(2);

  @TempDir Path tmp;

  @Test
  void aChangeThroughEitherHostIsServedByTheOtherWithinTwoSeconds() throws Exception {
    converges(Map.of(), "poll 1 s + file watch");
  }

  @Test
  void withoutFileEventsThePollAloneConvergesWithinTwoSeconds() throws Exception {
    // a network file system or a synced volume raises no events for changes made elsewhere
    converges(Map.of("graft.state.watch", "false"), "poll 1 s only");
  }

  private void converges(Map<String, String> config, String how) throws Exception {
    Path store = Repo.newStore(tmp);
    Files.write(store.resolve("noise.rws"), Oracle.signature("gaussian_noise").toByteArray());
    List<Long> millis = new ArrayList<>();
    try (HostProcess a = HostProcess.start("replica-a", store, config, Map.of(), null);
        HostProcess b = HostProcess.start("replica-b", store, config, Map.of(), null)) {
      RestartTest.awaitReady(a);
      RestartTest.awaitReady(b);
      ok(a.http().post(M + "/adapters?name=noise&src=noise.rws&alpha=0.5", new byte[0]));
      millis.add(converge(b, "noise@0.5"));

      ok(b.http().post(M + "/adapters?name=blur", Oracle.signature("gaussian_blur").toByteArray()));
      millis.add(converge(a, "blur@1.0+noise@0.5"));

      ok(a.http().post(M + "/adapters/noise/update?alpha=1.25", new byte[0]));
      millis.add(converge(b, "blur@1.0+noise@1.25"));

      ok(b.http().delete(M + "/adapters/blur"));
      ok(a.http().delete(M + "/adapters/noise"));
      millis.add(converge(b, "base"));
      millis.add(converge(a, "base"));

      ok(b.http().post(M + "/adapters?name=noise&src=noise.rws", new byte[0]));
      millis.add(converge(a, "noise@1.0"));
      assertThat(Oracle.rows(infer(a, "noise@1.0")))
          .as("both replicas compute with identical weights")
          .isDeepEqualTo(Oracle.rows(infer(b, "noise@1.0")));
    }
    System.out.printf("replica convergence (ms, loopback, %s): %s%n", how, millis);
  }

  /** Polls {@code h} until it serves {@code label}; returns the milliseconds it took. */
  private static long converge(HostProcess h, String label) {
    return Poll.convergesWithin(LIMIT, "replica serves " + label, () -> weights(h).equals(label));
  }
}

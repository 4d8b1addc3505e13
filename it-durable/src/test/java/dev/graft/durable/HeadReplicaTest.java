package dev.graft.durable;

import static dev.graft.durable.HeadRestartTest.addClasses;
import static dev.graft.durable.HeadRestartTest.infer;
import static dev.graft.durable.RestartTest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two hosts on loopback sharing one model store converge on its head versions. */
class HeadReplicaTest {
  private static final Duration LIMIT = Duration.ofSeconds(2);

  @TempDir Path tmp;

  @Test
  void aHeadChangeThroughEitherHostIsServedByTheOtherWithinTwoSeconds() throws Exception {
    converges(Map.of(), "poll 1 s + file watch");
  }

  @Test
  void withoutFileEventsThePollAloneConvergesOnAHeadChangeWithinTwoSeconds() throws Exception {
    converges(Map.of("graft.state.watch", "false"), "poll 1 s only");
  }

  private void converges(Map<String, String> config, String how) throws Exception {
    Path store = Repo.newStore(tmp, WaOracle.MODEL);
    List<Long> millis = new ArrayList<>();
    try (HostProcess a = HeadRestartTest.start("head-replica-a", store, config);
        HostProcess b = HeadRestartTest.start("head-replica-b", store, config)) {
      addClasses(a, 1, "wa");
      millis.add(converge(b, "base;head:digits@v2"));
      assertThat(Oracle.rows(infer(b, "base;head:digits@v2")))
          .as("both replicas compute with identical head weights")
          .isDeepEqualTo(Oracle.rows(infer(a, "base;head:digits@v2")));

      ok(b.http().post(WaOracle.HEAD + "/rollback", new byte[0]));
      millis.add(converge(a, "base;head:digits@v1"));

      addClasses(a, 1, "none");
      millis.add(converge(b, "base;head:digits@v3"));

      addClasses(b, 2, "wa");
      millis.add(converge(a, "base;head:digits@v4"));
      assertThat(Oracle.rows(infer(a, "base;head:digits@v4")))
          .isDeepEqualTo(Oracle.rows(infer(b, "base;head:digits@v4")));
      assertThat(HeadRestartTest.historyOf(a))
          .as("the same history on both")
          .isEqualTo(HeadRestartTest.historyOf(b));
    }
    System.out.printf("head replica convergence (ms, loopback, %s): %s%n", how, millis);
  }

  /** Polls {@code h} until its inferences carry {@code weights}; the milliseconds it took. */
  private static long converge(HostProcess h, String weights) {
    return Poll.convergesWithin(
        LIMIT,
        "replica serves " + weights,
        () ->
            weights.equals(
                h.http()
                    .postJson("/v2/models/" + WaOracle.MODEL + "/infer", Oracle.inferRequest())
                    .weights()));
  }
}

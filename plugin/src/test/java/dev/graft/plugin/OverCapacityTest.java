package dev.graft.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.internal.WorkerPool;
import dev.graft.plugin.testing.FullQueue;
import dev.graft.plugin.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadPoolExecutor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inferences and everything else run on two bounded pools: a full one answers 503 without blocking
 * the event loop, and the other keeps answering.
 */
class OverCapacityTest {
  private static final String INFER = "/v2/models/any/infer";

  @TempDir Path tmp;

  private final HttpClient client = HttpClient.newHttpClient();

  @Test
  void aFullInferenceQueueAnswers503WhileManagementAndHealthStillAnswer() throws Exception {
    ThreadPoolExecutor workers = WorkerPool.create("capacity-test", 1, 1);
    ThreadPoolExecutor control = WorkerPool.create("capacity-test-control", 1, 4);
    GraftConfig config = GraftConfig.of(Map.of("model_store", tmp.toString()), tmp);
    try (GraftRequestHandler handler = new GraftRequestHandler(config, workers, control);
        TestServer server = new TestServer(handler, 1 << 20);
        FullQueue full = FullQueue.fill(workers)) {
      HttpResponse<String> refused = post(server, INFER);
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.body()).contains("over capacity");
      HttpResponse<String> predictions = post(server, "/predictions/any");
      assertThat(predictions.statusCode()).isEqualTo(503);
      assertThat(type(predictions)).isEqualTo("ServiceUnavailableException");

      assertThat(get(server, "/models").statusCode())
          .as("management does not wait behind inferences")
          .isEqualTo(200);
      assertThat(get(server, "/v2/health/live").statusCode()).isEqualTo(200);
      assertThat(get(server, "/metrics").statusCode()).isEqualTo(200);

      full.drain();
      assertRouted(post(server, INFER));
    }
  }

  @Test
  void aFullControlQueueAnswers503WhileInferencesStillRun() throws Exception {
    ThreadPoolExecutor workers = WorkerPool.create("capacity-test", 1, 4);
    ThreadPoolExecutor control = WorkerPool.create("capacity-test-control", 1, 1);
    GraftConfig config = GraftConfig.of(Map.of("model_store", tmp.toString()), tmp);
    try (GraftRequestHandler handler = new GraftRequestHandler(config, workers, control);
        TestServer server = new TestServer(handler, 1 << 20);
        FullQueue full = FullQueue.fill(control)) {
      HttpResponse<String> refused = get(server, "/models");
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(type(refused)).isEqualTo("ServiceUnavailableException");
      assertRouted(post(server, INFER));

      full.drain();
      assertThat(get(server, "/models").statusCode()).isEqualTo(200);
    }
  }

  private HttpResponse<String> get(TestServer server, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(TestServer server, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The router answered (the body's empty input list is refused), not the full pool. */
  private static void assertRouted(HttpResponse<String> r) {
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).doesNotContain("over capacity");
  }

  private static String type(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject().get("type").getAsString();
  }
}

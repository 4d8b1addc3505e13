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

class OverCapacityTest {
  @TempDir Path tmp;

  @Test
  void fullQueueAnswers503WithoutBlockingTheEventLoop() throws Exception {
    ThreadPoolExecutor workers = WorkerPool.create("capacity-test", 1, 1);
    GraftConfig config = GraftConfig.of(Map.of("model_store", tmp.toString()), tmp);
    try (GraftRequestHandler handler = new GraftRequestHandler(config, workers);
        TestServer server = new TestServer(handler, 1 << 20);
        FullQueue full = FullQueue.fill(workers)) {
      HttpClient client = HttpClient.newHttpClient();

      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(server.uri("/models")).GET().build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(JsonParser.parseString(r.body()).getAsJsonObject().get("type").getAsString())
          .isEqualTo("ServiceUnavailableException");
      full.drain();
      HttpResponse<String> later =
          client.send(
              HttpRequest.newBuilder(server.uri("/models")).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(later.statusCode()).as("capacity is back once the queue drains").isEqualTo(200);
    }
  }
}

package dev.graft.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /models/{m}} reports how a model's weight states are laid out: the split chosen by
 * {@code option.graft.split} (and under {@code auto}, the build times that decided it), and a patch
 * over HTTP on a split model keeps the shared body.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelLayoutEndpointTest {
  @TempDir static Path tmp;

  private TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    for (String mode : new String[] {"on", "auto", "off"}) {
      Path folder = Fixtures.copyExampleModel(store);
      Path target = store.resolve("vgg-" + mode);
      Files.move(folder, target);
      Files.move(target.resolve("mnist-vgg.onnx"), target.resolve("model.onnx"));
      Files.writeString(
          target.resolve("serving.properties"),
          "\noption.graft.split=" + mode + "\n",
          StandardOpenOption.APPEND);
    }
    Files.write(store.resolve("noise.rws"), Fixtures.signature("gaussian_noise").toByteArray());
    GraftRequestHandler handler =
        new GraftRequestHandler(
            GraftConfig.of(
                Map.of(
                    "model_store", store.toString(),
                    "load_models", "vgg-on,vgg-auto,vgg-off",
                    "graft.executor.threads", "2"),
                tmp));
    server = new TestServer(handler, 64 * 1024 * 1024);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @Test
  void splitModelReportsItsCutAndKeepsItAcrossAPatch() throws Exception {
    JsonObject layout = describe("vgg-on").getAsJsonObject("layout");
    assertThat(layout.get("mode").getAsString()).isEqualTo("on");
    assertThat(layout.get("split").getAsBoolean()).isTrue();
    assertThat(layout.getAsJsonArray("cut").get(0).getAsString()).isEqualTo("/Relu_3_output_0");
    assertThat(layout.getAsJsonArray("stemLayers")).hasSize(4);

    HttpResponse<String> attach =
        send(
            HttpRequest.newBuilder(server.uri("/models/vgg-on/adapters?name=noise&src=noise.rws"))
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(attach.statusCode()).as("attach: %s", attach.body()).isEqualTo(200);

    JsonObject after = describe("vgg-on");
    assertThat(after.get("weights").getAsString()).isEqualTo("noise@1.0");
    assertThat(after.getAsJsonObject("layout").get("replans").getAsInt())
        .as("a keep-4 signature fits the stem: no new body")
        .isZero();
  }

  @Test
  void autoReportsTheMeasuredBuildTimesBehindItsChoice() throws Exception {
    JsonObject layout = describe("vgg-auto").getAsJsonObject("layout");
    assertThat(layout.get("mode").getAsString()).isEqualTo("auto");
    assertThat(layout.get("stemBuildMs").getAsDouble()).isPositive();
    assertThat(layout.get("wholeBuildMs").getAsDouble()).isPositive();
    assertThat(layout.get("reason").getAsString()).startsWith("auto: a stem builds in");
  }

  @Test
  void offServesThePlainRuntimeWithoutALayout() throws Exception {
    JsonObject m = describe("vgg-off");
    assertThat(m.has("layout")).as("the plain runtime has no layout to report").isFalse();
    assertThat(m.get("optimization").getAsString()).isEqualTo("EXTENDED_OPT");
  }

  private JsonObject describe(String model) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(server.uri("/models/" + model)).GET());
    assertThat(r.statusCode()).as("GET /models/%s: %s", model, r.body()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonArray().get(0).getAsJsonObject();
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(
        b.version(HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
  }
}

package dev.graft.host;

import static dev.graft.host.PluginJars.definition;
import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.host.testplugin.EchoHandler;
import dev.graft.host.testplugin.PathMatch;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inference and management on different addresses: only management consults plugins. */
class SeparateConnectorsTest {

  @TempDir Path workDir;

  private GraftHost host;
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void startHost() throws Exception {
    PluginJars.write(
        workDir.resolve("plugins"),
        "echo.jar",
        definition("echo", EchoHandler.class),
        EchoHandler.class,
        PathMatch.class);
    HostConfig config =
        HostConfig.load(
            null,
            Map.of(
                "SERVING_INFERENCE_ADDRESS", "http://127.0.0.1:0",
                "SERVING_MANAGEMENT_ADDRESS", "http://localhost:0"),
            workDir);
    host =
        GraftHost.start(
            config,
            PluginJars.isolatedLoader(),
            new PrintStream(stdout, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void stopHost() {
    host.close();
  }

  private int status(BindAddress address, String path) throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create(address.url() + path))
                .timeout(java.time.Duration.ofSeconds(10))
                .build(),
            BodyHandlers.ofString())
        .statusCode();
  }

  @Test
  void eachConnectorPrintsItsOwnBoundAddress() {
    assertThat(host.inferenceAddress().port()).isPositive();
    assertThat(host.managementAddress().port())
        .isPositive()
        .isNotEqualTo(host.inferenceAddress().port());
    assertThat(stdout.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            "Inference API bind to: " + host.inferenceAddress().url(),
            "Management API bind to: " + host.managementAddress().url(),
            "Graft host started.");
  }

  @Test
  void onlyTheManagementConnectorConsultsPlugins() throws Exception {
    assertThat(status(host.managementAddress(), "/echo")).isEqualTo(200);
    assertThat(status(host.inferenceAddress(), "/echo")).isEqualTo(404);
  }

  @Test
  void bothConnectorsAnswerPing() throws Exception {
    assertThat(status(host.managementAddress(), "/ping")).isEqualTo(200);
    assertThat(status(host.inferenceAddress(), "/ping")).isEqualTo(200);
  }
}

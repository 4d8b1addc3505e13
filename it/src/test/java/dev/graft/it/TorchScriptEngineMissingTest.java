package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An ONNX-only deployment: a plugin folder with {@code graft-plugin.jar} alone, without DJL's
 * PyTorch jars. The server starts, serves its ONNX model, skips the TorchScript folder under {@code
 * load_models=ALL} and refuses to register it with a 400 that says why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptEngineMissingTest {
  private GraftServer server;
  private Path plugins;

  @BeforeAll
  void start() throws IOException {
    plugins = Fixtures.scratch("onnx-only-plugins-");
    Files.copy(
        Fixtures.pluginFolder().resolve("graft-plugin.jar"), plugins.resolve("graft-plugin.jar"));
    server =
        GraftServer.builder(getClass().getSimpleName())
            .exampleModel(Fixtures.VGG)
            .exampleModel(TorchScriptVgg.MODEL)
            .loadModels("ALL")
            .property("plugin_folder", plugins.toString())
            .start();
    server.awaitReady(Fixtures.VGG);
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
    Fixtures.deleteTree(plugins);
  }

  @Test
  void torchScriptFolderIsSkippedAtStartUpWhileOnnxServes() {
    GraftClient client = server.client();

    assertThat(client.get("/models").body())
        .as("models loaded by load_models=ALL")
        .contains(Fixtures.VGG)
        .doesNotContain(TorchScriptVgg.MODEL);
    assertThat(client.infer(Fixtures.VGG, Vgg.probe(2)).weights()).isEqualTo("base");
    assertThat(server.output())
        .contains("skipping " + TorchScriptVgg.MODEL)
        .contains("the PyTorch engine is not installed");
  }

  @Test
  void registeringATorchScriptModelIsA400SayingTheEngineIsMissing() {
    GraftClient.Response r =
        server.client().post("/models?url=" + TorchScriptVgg.MODEL + "&model_name=pt");

    assertThat(Checks.assertError(r, 400, "register a .pt model without the engine").toString())
        .contains("engine=PyTorch, but the PyTorch engine is not installed");
    assertThat(server.client().get("/models/pt").status()).as("nothing registered").isEqualTo(404);
  }
}

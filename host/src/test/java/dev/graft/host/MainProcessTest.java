package dev.graft.host;

import static dev.graft.host.PluginJars.definition;
import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.host.testplugin.ClosingHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real entry point in its own JVM: start-up lines, serving, and shutdown on SIGTERM. */
class MainProcessTest {

  private static final Pattern INFERENCE_LINE =
      Pattern.compile("Inference API bind to: (http://127\\.0\\.0\\.1:(\\d+))");

  @TempDir Path workDir;

  @Test
  void processPrintsStartupLinesServesAndClosesPluginsOnSigterm() throws Exception {
    Path marker = workDir.resolve("plugin-closed.marker");
    PluginJars.write(
        workDir.resolve("plugins"),
        "closing.jar",
        definition("closing", ClosingHandler.class),
        ClosingHandler.class);
    Files.writeString(
        workDir.resolve("config.properties"),
        "inference_address=http://127.0.0.1:0\nclose_marker=" + marker + "\n");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "--config",
                "config.properties")
            .directory(workDir.toFile())
            .redirectError(workDir.resolve("stderr.txt").toFile())
            .start();
    try {
      BufferedReader stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String line = stdout.readLine();
        assertThat(line)
            .as("stdout line %d, stderr: %s", i, Files.readString(workDir.resolve("stderr.txt")))
            .isNotNull();
        lines.add(line);
      }
      Matcher inference = INFERENCE_LINE.matcher(lines.get(0));
      assertThat(inference.matches()).as(lines.get(0)).isTrue();
      assertThat(lines.subList(1, 3))
          .containsExactly("Management API bind to: " + inference.group(1), "Graft host started.");

      int status =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(inference.group(1) + "/ping")).build(),
                  BodyHandlers.ofString())
              .statusCode();
      assertThat(status).isEqualTo(200);
      assertThat(marker).doesNotExist();

      process.destroy(); // SIGTERM: runs the shutdown hook
      assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("process exits").isTrue();
      assertThat(marker).as("plugin closed by the shutdown hook").hasContent("closed");
    } finally {
      process.destroyForcibly();
    }
  }
}

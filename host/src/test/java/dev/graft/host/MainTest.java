package dev.graft.host;

import static dev.graft.host.PluginJars.definition;
import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.host.testplugin.FailingConstructorHandler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failure paths of the command line; they return before a server would block. */
class MainTest {

  @TempDir Path workDir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        Map.of(),
        workDir,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String errText() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void unparseableAddressExitsWith2AndOneLineMessage() throws Exception {
    Files.writeString(workDir.resolve("bad.properties"), "inference_address=http://:notaport\n");

    int code = run("--config", "bad.properties");

    assertThat(code).isEqualTo(2);
    assertThat(errText().lines()).hasSize(1);
    assertThat(errText()).contains("inference_address");
    assertThat(out.size()).as("nothing on stdout").isZero();
  }

  @Test
  void unreadableConfigFileExitsWith2() {
    int code = run("--config", "missing.properties");

    assertThat(code).isEqualTo(2);
    assertThat(errText()).contains("missing.properties").contains("no such file");
  }

  @Test
  void unknownArgumentsExitWith2AndUsage() {
    int code = run("--port", "8080");

    assertThat(code).isEqualTo(2);
    assertThat(errText()).contains("Usage: graft-host [--config FILE]");
  }

  @Test
  void helpPrintsUsageAndExitsZero() {
    int code = run("--help");

    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: graft-host");
  }

  @Test
  void defaultConfigFileIsReadFromConfigFolderWhenPresent() throws Exception {
    Files.createDirectories(workDir.resolve("config"));
    Files.writeString(
        workDir.resolve("config/config.properties"), "max_request_size=not-a-number\n");

    int code = run();

    assertThat(code).as("the default file was read and rejected").isEqualTo(2);
    assertThat(errText()).contains("max_request_size");
  }

  @Test
  void failingPluginExitsNonZeroNamingPluginAndClass() throws Exception {
    PluginJars.write(
        workDir.resolve("plugins"),
        "failing.jar",
        definition("failing", FailingConstructorHandler.class),
        FailingConstructorHandler.class);
    Files.writeString(
        workDir.resolve("config.properties"), "inference_address=http://127.0.0.1:0\n");

    int code = run("--config=config.properties");

    assertThat(code).isEqualTo(1);
    assertThat(errText().lines()).hasSize(1);
    assertThat(errText())
        .contains("'failing'")
        .contains(FailingConstructorHandler.class.getName())
        .contains("model store unreadable");
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("Graft host started.");
  }
}

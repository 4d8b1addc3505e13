package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.safetensors.SafeTensors;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WaCommandTest {
  @TempDir Path tmp;

  private record Run(int exit, String out, String err) {}

  private static Run graft(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = GraftCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  private static Path fixture(String relative) {
    for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        dir != null;
        dir = dir.getParent()) {
      Path candidate = dir.resolve("fixtures").resolve(relative);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("fixtures/" + relative + " not found");
  }

  @Test
  void alignWritesTheAlignedHeadWithGammaInTheMetadata() {
    Path out = tmp.resolve("aligned.safetensors");

    Run run =
        graft(
            "wa",
            "align",
            "--head",
            fixture("wa/head-task1.safetensors").toString(),
            "--old",
            "4",
            "-o",
            out.toString());

    assertThat(run.exit()).as("exit code, stderr: %s", run.err()).isZero();
    assertThat(run.out()).as("γ printed").contains("gamma 0.75817");
    SafeTensors written = SafeTensors.read(out);
    assertThat(Double.parseDouble(written.metadata().get("gamma")))
        .as("γ in the metadata")
        .isCloseTo(0.75817, within(1e-4));
    assertThat(written.metadata())
        .as("labels kept")
        .containsEntry("classes", "0,1,2,3,4,5,6")
        .containsEntry("feature_dim", "64");
    assertThat(ClassifierHead.read(out).slice(0, 4))
        .as("old rows untouched")
        .isEqualTo(ClassifierHead.read(fixture("wa/head-task1.safetensors")).slice(0, 4));
  }

  @Test
  void alignRefusesABadOldCountWithExitTwoAndWritesNothing() {
    Path out = tmp.resolve("never.safetensors");

    Run run =
        graft(
            "wa",
            "align",
            "--head",
            fixture("wa/head-task1.safetensors").toString(),
            "--old",
            "7",
            "-o",
            out.toString());

    assertThat(run.exit()).as("user mistake is exit 2").isEqualTo(2);
    assertThat(run.err()).as("message names the problem").contains("7 old of 7");
    assertThat(out).as("no output on refusal").doesNotExist();
  }

  @Test
  void evalPrintsTheAccuracyOverTheHeadsClasses() {
    Run run =
        graft(
            "wa",
            "eval",
            "--backbone",
            fixture("wa/wa-backbone.onnx").toString(),
            "--head",
            fixture("wa/head-task0.safetensors").toString(),
            "--images",
            fixture("rws/data/test-images.idx3-ubyte.gz").toString(),
            "--labels",
            fixture("rws/data/test-labels.idx1-ubyte.gz").toString());

    assertThat(run.exit()).as("exit code, stderr: %s", run.err()).isZero();
    assertThat(run.out()).as("800 test images of classes 0-3").contains("(800 images");
  }
}

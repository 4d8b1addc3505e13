package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.Fixtures;
import dev.graft.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitCommandTest {
  @TempDir Path tmp;

  @Test
  void splitAfterALayerWritesStemAndBodyAndReportsTheCut() {
    Path out = tmp.resolve("parts");
    Cli r = Cli.run("split", Fixtures.vgg("clean"), "--after", "convs.3", "-o", out);

    assertThat(r.exit()).as("exit code; stderr: %s", r.err()).isZero();
    JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
    assertThat(report.getAsJsonArray("cut").get(0).getAsString()).isEqualTo("/Relu_3_output_0");
    assertThat(report.getAsJsonObject("stem").get("nodes").getAsInt()).isEqualTo(8);
    OnnxModel stem = OnnxModel.load(out.resolve("stem.onnx"));
    OnnxModel body = OnnxModel.load(out.resolve("body.onnx"));
    assertThat(stem.proto().getGraph().getOutput(0).getName()).isEqualTo("/Relu_3_output_0");
    assertThat(body.proto().getGraph().getInput(0).getName()).isEqualTo("/Relu_3_output_0");
    assertThat(body.proto().getGraph().getOutput(0).getName()).isEqualTo("logits");
  }

  @Test
  void explicitCutTensorsAreUsedAsGiven() {
    Cli r =
        Cli.run("split", Fixtures.vgg("clean"), "--cut", "/Relu_output_0", "-o", tmp.resolve("p"));

    assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
    assertThat(OnnxModel.load(tmp.resolve("p/stem.onnx")).proto().getGraph().getNodeCount())
        .as("Conv and Relu of convs.0")
        .isEqualTo(2);
  }

  @Test
  void badCutExitsTwoAndWritesNothing() {
    Path out = tmp.resolve("none");
    Cli r = Cli.run("split", Fixtures.vgg("clean"), "--cut", "convs.1.weight", "-o", out);

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("cut tensor convs.1.weight is constant");
    assertThat(Files.exists(out)).as("no output folder for a refused split").isFalse();
  }

  @Test
  void afterAndCutTogetherAreAUsageError() {
    Cli r = Cli.run("split", Fixtures.vgg("clean"), "--after", "convs.0", "--cut", "x", "-o", tmp);

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("mutually exclusive");
  }
}

package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code graft ofq pack|verify} and {@code graft gen vit}: what users see, and every refusal. */
class OfqCommandTest {
  @TempDir Path tmp;

  private final Path w2a2 = Fixtures.ofq("ofq-vit-w2a2.onnx");

  @Test
  void packWritesTheModelAndReportsWhatItPackedAndSkipped() throws IOException {
    Path out = tmp.resolve("packed.onnx");

    Cli r = Cli.run("ofq", "pack", w2a2, "-o", out, "--format", "dq");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("packed 24 weights (663,552 values) as dq: 2,830,032 -> ")
        .contains("of ofq-vit-w2a2.onnx)")
        .contains("patch                    [16,96]      skip    not 2-bit: row 0 holds 16")
        .contains("blocks.5.fc2             [384,96]     pack")
        .contains("/head/Gemm               [10,96]      skip    not 2-bit");
    assertThat(Files.size(out)).isLessThan(Files.size(w2a2) / 8);
  }

  @Test
  void autoSaysWhichFormatOnnxRuntimeRunsExactly() {
    Cli r = Cli.run("ofq", "pack", w2a2, "-o", tmp.resolve("auto.onnx"));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("as dq:").contains("auto: dq: ONNX Runtime reproduces all");
  }

  @Test
  void floatModelIsRefusedAndNothingIsWritten() {
    Path out = tmp.resolve("fp32-packed.onnx");

    Cli r = Cli.run("ofq", "pack", Fixtures.ofq("ofq-vit-fp32.onnx"), "-o", out);

    assertRefused(
        r,
        out,
        "ofq-vit-fp32.onnx: no packable layer: no MatMul/Gemm weight holds"
            + " StatsQ 2-bit values");
  }

  @Test
  void rowWithFiveLevelsIsRefusedAndNothingIsWritten() {
    Path damaged = damagedModel();
    Path out = tmp.resolve("out.onnx");

    Cli r = Cli.run("ofq", "pack", damaged, "-o", out);

    assertRefused(
        r,
        out,
        "blocks.0.qkv (blocks.0.qkv.weight_q): 1 of 288 rows are not on StatsQ"
            + " levels (row 17 holds 5 distinct values); pass --allow-requantize");
  }

  @Test
  void allowRequantizeRepairsTheRowAndSaysSo() {
    Path out = tmp.resolve("out.onnx");

    Cli r = Cli.run("ofq", "pack", damagedModel(), "-o", out, "--allow-requantize");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("re-quantised 1 of 288 rows with StatsQ post-training")
        .contains("note: 1 rows were re-quantised post-training: this model's outputs differ");
    assertThat(out).exists();
  }

  @Test
  void twoBitWeightInAnUnsupportedPlaceIsRefused() {
    Path model = tmp.resolve("left.onnx");
    dev.graft.onnx.ofq.TinyModelsAccess.leftOperand().save(model);
    Path out = tmp.resolve("out.onnx");

    Cli r = Cli.run("ofq", "pack", model, "-o", out);

    assertRefused(
        r,
        out,
        "2-bit weight in a place Graft cannot pack: it is MatMul left's left" + " operand (W·x)");
  }

  @Test
  void unknownFormatIsRefused() {
    Path out = tmp.resolve("out.onnx");

    Cli r = Cli.run("ofq", "pack", w2a2, "-o", out, "--format", "int4");

    assertRefused(r, out, "--format int4: expected nbits, dq or auto");
  }

  @Test
  void badBlockSizeIsRefused() {
    Path out = tmp.resolve("out.onnx");

    Cli r = Cli.run("ofq", "pack", w2a2, "-o", out, "--format", "nbits", "--block-size", "48");

    assertRefused(r, out, "block size 48: MatMulNBits takes 16, 32, 64 or 128");
  }

  @Test
  void verifyGateRefusesAPostTrainingQuantisedFloatModel() {
    Path out = tmp.resolve("ptq.onnx");

    Cli r =
        Cli.run(
            "ofq",
            "pack",
            Fixtures.ofq("ofq-vit-fp32.onnx"),
            "-o",
            out,
            "--allow-requantize",
            "--verify",
            Fixtures.testImages(""));

    assertThat(r.out()).contains("top-1 agreement");
    assertRefused(r, out, "below --min-agreement 0.9950; nothing written");
  }

  @Test
  void packWithVerifyPrintsAccuracyAndAgreementThenWrites() {
    Path out = tmp.resolve("verified.onnx");

    Cli r =
        Cli.run(
            "ofq",
            "pack",
            w2a2,
            "-o",
            out,
            "--format",
            "nbits",
            "--verify",
            Fixtures.testImages(""));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("accuracy   ofq-vit-w2a2.onnx            0.9635")
        .contains("accuracy   verified.onnx                0.9640")
        .contains("top-1 agreement 0.9995 (1 of 2000 images differ)")
        .contains("wrote " + out);
  }

  @Test
  void verifyComparesTwoModels() {
    Cli r =
        Cli.run(
            "ofq",
            "verify",
            w2a2,
            Fixtures.ofq("ofq-vit-fp32.onnx"),
            "--images",
            Fixtures.testImages(""),
            "--labels",
            Fixtures.testLabels());

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("accuracy   ofq-vit-w2a2.onnx            0.9635")
        .contains("accuracy   ofq-vit-fp32.onnx            0.9695")
        .containsPattern("top-1 agreement 0\\.9[0-9]+ \\([0-9]+ of 2000 images differ\\)");
  }

  @Test
  void generatedStatsQVitPacksEveryBlockLayer() {
    Path vit = tmp.resolve("vit.onnx");
    Path out = tmp.resolve("vit-packed.onnx");

    Cli gen =
        Cli.run(
            "gen",
            "vit",
            "--embed",
            "64",
            "--depth",
            "2",
            "--heads",
            "2",
            "--mlp",
            "128",
            "--image",
            "32",
            "--patch",
            "8",
            "--classes",
            "10",
            "--statsq",
            "-o",
            vit);
    Cli pack = Cli.run("ofq", "pack", vit, "-o", out, "--format", "nbits");

    assertThat(gen.exit()).as(gen.err()).isZero();
    assertThat(gen.out()).contains("StatsQ 2-bit");
    assertThat(pack.exit()).as(pack.err()).isZero();
    assertThat(pack.out()).contains("packed 8 weights");
  }

  private Path damagedModel() {
    OnnxModel m = OnnxModel.load(w2a2);
    FloatTensor w = m.floatTensor("blocks.0.qkv.weight_q");
    float[] data = w.data().clone();
    data[3 * 288 + 17] *= 1.01f; // row 17 of the [96, 288] weight gets a fifth value
    Path damaged = tmp.resolve("damaged.onnx");
    m.withTensors(List.of(w.withData(data))).save(damaged);
    return damaged;
  }

  private void assertRefused(Cli r, Path out, String message) {
    assertThat(r.exit()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
    assertThat(r.err()).contains(message);
    assertThat(out).as("no output file").doesNotExist();
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp")))
          .as("no temporary file left")
          .isEmpty();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

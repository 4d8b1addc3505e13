package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input gets a one-line error naming the file and the problem, exit code 2, and no output
 * file.
 */
class RwsBadInputTest {
  @TempDir Path tmp;
  private Path out;
  private Path goodSig;

  @BeforeEach
  void extractOneGoodSignature() {
    out = tmp.resolve("out.rws");
    goodSig = tmp.resolve("good.rws");
    Cli r =
        extract(
            Fixtures.vgg("clean"), Fixtures.vgg("robust-gaussian_noise"), goodSig, "--keep", "2");
    assertThat(r.exit()).as(r.err()).isZero();
  }

  @Test
  void missingCleanModel() {
    Cli r = extract(tmp.resolve("nope.onnx"), Fixtures.vgg("robust-contrast"), out, "--keep", "4");
    assertRefused(r, "nope.onnx: no such file");
  }

  @Test
  void truncatedModel() throws IOException {
    byte[] bytes = Files.readAllBytes(Fixtures.vgg("robust-contrast"));
    Path cut = Files.write(tmp.resolve("cut.onnx"), Arrays.copyOf(bytes, bytes.length / 3));
    Cli r = extract(Fixtures.vgg("clean"), cut, out, "--keep", "4");
    assertRefused(r, "cut.onnx");
    assertThat(r.err()).contains("not an ONNX model or truncated");
  }

  @Test
  void notAnOnnxFile() throws IOException {
    Path text = Files.writeString(tmp.resolve("notes.onnx"), "hello");
    Cli r = extract(text, Fixtures.vgg("robust-contrast"), out, "--keep", "4");
    assertRefused(r, "notes.onnx: not an ONNX model");
  }

  @Test
  void modelsOfDifferentArchitectures() {
    Cli r =
        extract(
            Fixtures.vgg("clean"),
            Fixtures.root().resolve("wa/wa-backbone.onnx"),
            out,
            "--keep",
            "2");
    assertRefused(r, "different architectures");
    assertThat(r.err()).contains("mnist-vgg-clean.onnx").contains("wa-backbone.onnx");
  }

  @Test
  void nanInWeights() {
    OnnxModel robust = OnnxModel.load(Fixtures.vgg("robust-contrast"));
    FloatTensor w = robust.floatTensor("convs.1.weight");
    float[] bad = w.data().clone();
    bad[7] = Float.NaN;
    Path nan = tmp.resolve("nan.onnx");
    robust.withTensors(List.of(w.withData(bad))).save(nan);

    Cli r = extract(Fixtures.vgg("clean"), nan, out, "--keep", "4");

    assertRefused(r, "nan.onnx: tensor convs.1.weight holds a non-finite value (NaN at index 7)");
  }

  @Test
  void infInWeights() {
    OnnxModel robust = OnnxModel.load(Fixtures.vgg("robust-contrast"));
    FloatTensor b = robust.floatTensor("convs.0.bias");
    float[] bad = b.data().clone();
    bad[0] = Float.POSITIVE_INFINITY;
    Path inf = tmp.resolve("inf.onnx");
    robust.withTensors(List.of(b.withData(bad))).save(inf);

    Cli r = extract(Fixtures.vgg("clean"), inf, out, "--keep", "1");

    assertRefused(r, "inf.onnx: tensor convs.0.bias holds a non-finite value (Infinity");
  }

  @Test
  void unknownLayerNames() {
    Cli r =
        extract(
            Fixtures.vgg("clean"),
            Fixtures.vgg("robust-contrast"),
            out,
            "--layers",
            "convs.0,conv9");
    assertRefused(r, "unknown layer(s) [conv9]");
  }

  @Test
  void keepLargerThanTheLayerCount() {
    Cli r = extract(Fixtures.vgg("clean"), Fixtures.vgg("robust-contrast"), out, "--keep", "10");
    assertRefused(r, "keep 10 is larger than the 9 weight layers");
  }

  @Test
  void levelsBelowTwo() {
    Cli r =
        extract(
            Fixtures.vgg("clean"),
            Fixtures.vgg("robust-contrast"),
            out,
            "--keep",
            "4",
            "--levels",
            "1");
    assertRefused(r, "levels must be at least 2, got 1");
  }

  @Test
  void truncatedSignature() throws IOException {
    byte[] bytes = Files.readAllBytes(goodSig);
    Path cut = Files.write(tmp.resolve("cut.rws"), Arrays.copyOf(bytes, bytes.length - 40));
    Path model = tmp.resolve("patched.onnx");

    Cli r = Cli.run("rws", "apply", "--model", Fixtures.vgg("clean"), "--rws", cut, "-o", model);

    assertRefused(r, "cut.rws");
    assertThat(model).doesNotExist();
  }

  @Test
  void signatureWithAFlippedByteIsCorrupt() throws IOException {
    byte[] bytes = Files.readAllBytes(goodSig);
    bytes[bytes.length / 2] ^= 0x10;
    Path bad = Files.write(tmp.resolve("flipped.rws"), bytes);
    Path model = tmp.resolve("patched.onnx");

    Cli r = Cli.run("rws", "apply", "--model", Fixtures.vgg("clean"), "--rws", bad, "-o", model);

    assertRefused(r, "flipped.rws");
    assertThat(model).doesNotExist();
  }

  @Test
  void notAnRwsFile() {
    Path model = tmp.resolve("patched.onnx");
    Cli r =
        Cli.run(
            "rws",
            "apply",
            "--model",
            Fixtures.vgg("clean"),
            "--rws",
            Fixtures.vgg("clean"),
            "-o",
            model);
    assertRefused(r, "mnist-vgg-clean.onnx: not an RWS file");
    assertThat(model).doesNotExist();
  }

  @Test
  void signatureForAnotherArchitecture() {
    Path model = tmp.resolve("patched.onnx");
    Cli r =
        Cli.run(
            "rws",
            "apply",
            "--model",
            Fixtures.root().resolve("wa/wa-backbone.onnx"),
            "--rws",
            goodSig,
            "-o",
            model);
    assertRefused(r, "different architectures");
    assertThat(model).doesNotExist();
  }

  @Test
  void signatureForAnotherBaseNeedsTransfer() {
    Path model = tmp.resolve("patched.onnx");
    Cli r =
        Cli.run("rws", "apply", "--model", Fixtures.vgg("clean-v2"), "--rws", goodSig, "-o", model);
    assertRefused(r, "pass --transfer");
    assertThat(model).doesNotExist();
  }

  @Test
  void missingSignatureFile() {
    Path model = tmp.resolve("patched.onnx");
    Cli r =
        Cli.run(
            "rws",
            "apply",
            "--model",
            Fixtures.vgg("clean"),
            "--rws",
            tmp.resolve("absent.rws"),
            "-o",
            model);
    assertRefused(r, "absent.rws: no such file");
    assertThat(model).doesNotExist();
  }

  @Test
  void inspectOfAMissingModelIsRefused() {
    Cli r = Cli.run("inspect", tmp.resolve("absent.onnx"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("absent.onnx: no such file");
  }

  private static Cli extract(Path clean, Path robust, Path out, String... more) {
    List<Object> args =
        new java.util.ArrayList<>(
            List.of(
                "rws", "extract", "--clean", clean, "--robust", robust, "--name", "x", "-o", out));
    args.addAll(List.of((Object[]) more));
    return Cli.run(args.toArray());
  }

  private void assertRefused(Cli r, String message) {
    assertThat(r.exit()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
    assertThat(r.err()).as("stderr").contains(message);
    assertThat(r.err().strip().lines().count()).as("one-line error: %s", r.err()).isEqualTo(1);
    assertThat(out).as("no output written").doesNotExist();
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no temporary files left")
          .noneMatch(n -> n.endsWith(".tmp"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

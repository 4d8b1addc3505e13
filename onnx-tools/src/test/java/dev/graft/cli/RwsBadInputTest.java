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
  private Path patched;
  private Path goodSig;

  @BeforeEach
  void extractOneGoodSignature() {
    out = tmp.resolve("out.rws");
    patched = tmp.resolve("patched.onnx");
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
    Path nan = robustWith("convs.1.weight", 7, Float.NaN, "nan.onnx");

    Cli r = extract(Fixtures.vgg("clean"), nan, out, "--keep", "4");

    assertRefused(r, "nan.onnx: tensor convs.1.weight holds a non-finite value (NaN at index 7)");
  }

  @Test
  void infInWeights() {
    Path inf = robustWith("convs.0.bias", 0, Float.POSITIVE_INFINITY, "inf.onnx");

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

    Cli r = apply(Fixtures.vgg("clean"), cut);

    assertRefused(r, "cut.rws");
  }

  @Test
  void signatureWithAFlippedByteIsCorrupt() throws IOException {
    byte[] bytes = Files.readAllBytes(goodSig);
    bytes[bytes.length / 2] ^= 0x10;
    Path bad = Files.write(tmp.resolve("flipped.rws"), bytes);

    Cli r = apply(Fixtures.vgg("clean"), bad);

    assertRefused(r, "flipped.rws");
  }

  @Test
  void notAnRwsFile() {
    Cli r = apply(Fixtures.vgg("clean"), Fixtures.vgg("clean"));
    assertRefused(r, "mnist-vgg-clean.onnx: not an RWS file");
  }

  @Test
  void signatureForAnotherArchitecture() {
    Cli r = apply(Fixtures.root().resolve("wa/wa-backbone.onnx"), goodSig);
    assertRefused(r, "different architectures");
  }

  @Test
  void signatureForAnotherBaseNeedsTransfer() {
    Cli r = apply(Fixtures.vgg("clean-v2"), goodSig);
    assertRefused(r, "pass --transfer");
  }

  @Test
  void missingSignatureFile() {
    Cli r = apply(Fixtures.vgg("clean"), tmp.resolve("absent.rws"));
    assertRefused(r, "absent.rws: no such file");
  }

  @Test
  void inspectOfAMissingModelIsRefused() {
    Cli r = Cli.run("inspect", tmp.resolve("absent.onnx"));
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("absent.onnx: no such file");
  }

  /**
   * The robust-contrast fixture with one value of {@code tensor} replaced, saved as {@code file}.
   */
  private Path robustWith(String tensor, int index, float value, String file) {
    OnnxModel robust = OnnxModel.load(Fixtures.vgg("robust-contrast"));
    FloatTensor t = robust.floatTensor(tensor);
    float[] data = t.data().clone();
    data[index] = value;
    Path path = tmp.resolve(file);
    robust.withTensors(List.of(t.withData(data))).save(path);
    return path;
  }

  private static Cli extract(Path clean, Path robust, Path out, String... more) {
    List<Object> args =
        new java.util.ArrayList<>(
            List.of(
                "rws", "extract", "--clean", clean, "--robust", robust, "--name", "x", "-o", out));
    args.addAll(List.of((Object[]) more));
    return Cli.run(args.toArray());
  }

  /** {@code graft rws apply} of one signature to {@code model}, writing {@link #patched}. */
  private Cli apply(Path model, Path signature) {
    return Cli.run("rws", "apply", "--model", model, "--rws", signature, "-o", patched);
  }

  private void assertRefused(Cli r, String message) {
    assertThat(r.exit()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
    assertThat(r.err()).as("stderr").contains(message);
    assertThat(r.err().strip().lines().count()).as("one-line error: %s", r.err()).isEqualTo(1);
    assertThat(out).as("no signature written").doesNotExist();
    assertThat(patched).as("no patched model written").doesNotExist();
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no temporary files left")
          .noneMatch(n -> n.endsWith(".tmp"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

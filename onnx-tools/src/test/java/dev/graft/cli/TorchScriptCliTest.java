package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.rws.RwsSignature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code graft inspect} and {@code graft rws extract} on TorchScript {@code .pt} files. */
class TorchScriptCliTest {
  @TempDir Path tmp;

  private static Path model(String variant, String ext) {
    return Fixtures.rws("mnist-vgg-" + variant + "." + ext);
  }

  private Cli extract(String clean, String robust, String pretrained, Path out) {
    return Cli.run(
        "rws",
        "extract",
        "--clean",
        model("clean", clean),
        "--robust",
        model("robust-gaussian_blur", robust),
        "--pretrained",
        model("pretrained", pretrained),
        "--keep",
        "3",
        "--name",
        "gaussian_blur",
        "-o",
        out);
  }

  @Test
  void extractFromPtFilesWritesTheSignatureOfTheOnnxFiles() {
    Path fromPt = tmp.resolve("pt.rws");
    Path fromOnnx = tmp.resolve("onnx.rws");

    Cli pt = extract("pt", "pt", "pt", fromPt);
    Cli onnx = extract("onnx", "onnx", "onnx", fromOnnx);

    assertThat(pt.exit()).as(pt.err()).isZero();
    assertThat(onnx.exit()).as(onnx.err()).isZero();
    assertThat(RwsSignature.read(fromPt).proto().getLayersList())
        .as("codes, ranges and names of the signature from .pt vs from .onnx")
        .isEqualTo(RwsSignature.read(fromOnnx).proto().getLayersList());
  }

  @Test
  void formatsMayBeMixedWhenTheNamesAgree() {
    Cli r = extract("pt", "onnx", "pt", tmp.resolve("mixed.rws"));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("3 layers (keep): [convs.0, convs.1, convs.2]");
  }

  @Test
  void inspectListsTheLayersOfAPtFile() {
    Cli r = Cli.run("inspect", model("clean", "pt"));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("PyTorch archive, 18 tensors, 9 weight layers")
        .contains("fc                       Gemm           fc.weight                    [10, 64]");
  }

  @Test
  void applyRefusesAPtModelWithAMessage() {
    Path sig = tmp.resolve("s.rws");
    assertThat(extract("onnx", "onnx", "onnx", sig).exit()).isZero();

    Cli r =
        Cli.run(
            "rws",
            "apply",
            "--model",
            model("clean", "pt"),
            "--rws",
            sig,
            "-o",
            tmp.resolve("out.pt"));

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("is a PyTorch archive; apply writes ONNX models only");
    assertThat(tmp.resolve("out.pt")).doesNotExist();
  }

  @Test
  void truncatedPtFileIsRefusedNamingIt() throws IOException {
    byte[] bytes = Files.readAllBytes(model("robust-gaussian_blur", "pt"));
    Path cut = Files.write(tmp.resolve("cut.pt"), Arrays.copyOf(bytes, bytes.length / 2));

    Cli r =
        Cli.run(
            "rws",
            "extract",
            "--clean",
            model("clean", "pt"),
            "--robust",
            cut,
            "--keep",
            "2",
            "--name",
            "x",
            "-o",
            tmp.resolve("x.rws"));

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("cut.pt: not a PyTorch archive");
    assertThat(tmp.resolve("x.rws")).doesNotExist();
  }
}

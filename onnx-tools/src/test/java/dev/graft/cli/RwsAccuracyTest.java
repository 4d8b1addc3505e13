package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The foundation's done-means on the fixtures: signatures extracted with the command line, applied
 * with the command line and evaluated with ONNX Runtime reproduce the PyTorch reference figures
 * within 1 point.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RwsAccuracyTest {
  private static final double POINT = 0.01;
  private static final String[] CORRUPTIONS = {
    "gaussian_noise", "impulse_noise", "gaussian_blur", "contrast"
  };

  private Path tmp;
  private final Map<String, Path> signatures = new HashMap<>();
  private int[] labels;

  @BeforeAll
  void extractEverySignatureWithTheCli(@TempDir Path dir) {
    tmp = dir;
    labels = Idx.readLabels(Fixtures.testLabels());
    for (String c : CORRUPTIONS) {
      Path out = tmp.resolve(c + ".rws");
      Cli r =
          Cli.run(
              "rws",
              "extract",
              "--clean",
              Fixtures.vgg("clean"),
              "--robust",
              Fixtures.vgg("robust-" + c),
              "--pretrained",
              Fixtures.vgg("pretrained"),
              "--keep",
              4,
              "--levels",
              256,
              "--name",
              c,
              "-o",
              out);
      assertThat(r.exit()).as("extract %s: %s", c, r.err()).isZero();
      signatures.put(c, out);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gaussian_noise", "impulse_noise", "gaussian_blur", "contrast"})
  void patchedCleanModelReachesTheReferenceOnTheCorruptedSet(String c) {
    Path patched = apply("clean", c + "-patched.onnx", signatures.get(c).toString());

    double acc = accuracy(patched, c);

    assertThat(acc)
        .as("%s patched onto clean, corrupted set", c)
        .isCloseTo(RwsReference.patch(c, "keep4-levels256", "corrupt"), within(POINT));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gaussian_noise", "impulse_noise", "gaussian_blur", "contrast"})
  void patchedCleanModelKeepsTheReferenceOnTheCleanSet(String c) {
    Path patched = apply("clean", c + "-patched-clean.onnx", signatures.get(c).toString());

    assertThat(accuracy(patched, ""))
        .as("%s patched onto clean, clean set", c)
        .isCloseTo(RwsReference.patch(c, "keep4-levels256", "clean"), within(POINT));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gaussian_noise", "impulse_noise", "gaussian_blur", "contrast"})
  void signatureTransfersToTheUpdatedBackbone(String c) {
    Path patched =
        apply("clean-v2", c + "-transfer.onnx", signatures.get(c).toString(), "--transfer");

    assertThat(accuracy(patched, c))
        .as("%s patched onto clean-v2", c)
        .isCloseTo(RwsReference.patch(c, "keep4-levels256", "transfer_v2_corrupt"), within(POINT));
  }

  @ParameterizedTest(name = "{0} alpha {1}")
  @CsvSource({
    "gaussian_noise,0.25", "gaussian_noise,0.5", "gaussian_noise,0.75", "gaussian_noise,1.25",
    "impulse_noise,0.25", "impulse_noise,0.5", "impulse_noise,0.75", "impulse_noise,1.25",
    "gaussian_blur,0.25", "gaussian_blur,0.5", "gaussian_blur,0.75", "gaussian_blur,1.25",
    "contrast,0.25", "contrast,0.5", "contrast,0.75", "contrast,1.25"
  })
  void alphaScalingReproducesTheReference(String c, String alpha) {
    Path patched = apply("clean", c + "-a" + alpha + ".onnx", signatures.get(c) + ":" + alpha);

    assertThat(accuracy(patched, c))
        .as("%s at alpha %s", c, alpha)
        .isCloseTo(
            RwsReference.patch(c, "keep4-levels256-alpha" + alpha, "corrupt"), within(POINT));
  }

  @Test
  void composingNoiseAndBlurReproducesTheReference() {
    Path patched =
        apply(
            "clean",
            "composed.onnx",
            signatures.get("gaussian_noise").toString(),
            "--rws",
            signatures.get("gaussian_blur").toString());

    assertThat(accuracy(patched, "gaussian_noise"))
        .as("noise set")
        .isCloseTo(RwsReference.composition("gaussian_noise"), within(POINT));
    assertThat(accuracy(patched, "gaussian_blur"))
        .as("blur set")
        .isCloseTo(RwsReference.composition("gaussian_blur"), within(POINT));
    assertThat(accuracy(patched, ""))
        .as("clean set")
        .isCloseTo(RwsReference.composition("clean"), within(POINT));
  }

  @Test
  void signatureIsAtLeastThirteenTimesSmallerThanTheModelAndInspectSaysSo() throws Exception {
    Path sig = signatures.get("gaussian_noise");
    double ratio = (double) Files.size(Fixtures.vgg("clean")) / Files.size(sig);

    Cli r = Cli.run("rws", "inspect", sig, "--model", Fixtures.vgg("clean"));

    assertThat(ratio).as("model file / signature file").isGreaterThanOrEqualTo(13.0);
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains(String.format("%.1fx vs the model file", ratio));
  }

  private Path apply(String target, String out, String... rws) {
    Path output = tmp.resolve(out);
    java.util.List<Object> args =
        new java.util.ArrayList<>(
            java.util.List.of("rws", "apply", "--model", Fixtures.vgg(target), "-o", output));
    for (String r : rws) {
      if (r.startsWith("--")) {
        args.add(r);
      } else {
        if (!args.get(args.size() - 1).equals("--rws")) {
          args.add("--rws");
        }
        args.add(r);
      }
    }
    Cli result = Cli.run(args.toArray());
    assertThat(result.exit()).as("apply: %s", result.err()).isZero();
    return output;
  }

  private double accuracy(Path model, String corruption) {
    Idx.Images images = Idx.readImages(Fixtures.testImages(corruption));
    try (OrtClassifier c = new OrtClassifier(OnnxModel.load(model))) {
      return OrtClassifier.accuracy(c.logits(images, 500), labels);
    }
  }
}

package dev.graft.onnx.ofq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Comparison;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.safetensors.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The done-means on the fixture ViT, with real ONNX Runtime, for both formats. */
class OfqPackTest {
  private static final double REFERENCE_ACCURACY = 0.9635;

  private static OnnxModel fakeQuant;
  private static long fakeQuantBytes;
  private static Idx.Images images;
  private static int[] labels;
  private static float[][] referenceLogits;
  private static float[][] fakeQuantLogits;
  private static final Map<PackFormat, OfqPacker.Result> PACKED = new EnumMap<>(PackFormat.class);
  private static final Map<PackFormat, float[][]> LOGITS = new EnumMap<>(PackFormat.class);

  @BeforeAll
  static void packBothFormatsAndRunThemOnTheTestSet() throws IOException {
    fakeQuant = OnnxModel.load(Fixtures.ofq("ofq-vit-w2a2.onnx"));
    fakeQuantBytes = Files.size(Fixtures.ofq("ofq-vit-w2a2.onnx"));
    images = Idx.readImages(Fixtures.testImages(""));
    labels = Idx.readLabels(Fixtures.testLabels());
    float[] flat =
        SafeTensors.read(Fixtures.ofq("ofq-vit-w2a2-logits.safetensors"))
            .floatTensor("logits")
            .data();
    referenceLogits = new float[flat.length / 10][10];
    for (int i = 0; i < referenceLogits.length; i++) {
      System.arraycopy(flat, i * 10, referenceLogits[i], 0, 10);
    }
    fakeQuantLogits = logits(fakeQuant);
    for (PackFormat f : PackFormat.values()) {
      OfqPacker.Result r = OfqPacker.pack(fakeQuant, OfqPacker.Options.of(f));
      PACKED.put(f, r);
      LOGITS.put(f, logits(r.model()));
    }
  }

  @Test
  void dqFileIsAtMostAnEighthOfTheFakeQuantModel() {
    long bytes = PACKED.get(PackFormat.DQ).bytes();
    double ratio = (double) fakeQuantBytes / bytes;
    System.out.printf("dq: %,d -> %,d bytes, 1/%.2f%n", fakeQuantBytes, bytes, ratio);

    assertThat(ratio).as("ofq-vit-w2a2.onnx size / packed dq size").isGreaterThanOrEqualTo(8.0);
  }

  @Test
  void nbitsFileIsAtMostASeventhOfTheFakeQuantModel() {
    // MatMulNBits needs one scale per block of >= 16 inputs and pads K=96 to whole blocks: the
    // fixture's layers are too narrow for 1/8 in this format
    long bytes = PACKED.get(PackFormat.NBITS).bytes();
    double ratio = (double) fakeQuantBytes / bytes;
    System.out.printf("nbits: %,d -> %,d bytes, 1/%.2f%n", fakeQuantBytes, bytes, ratio);

    assertThat(ratio).as("ofq-vit-w2a2.onnx size / packed nbits size").isGreaterThanOrEqualTo(7.0);
  }

  @ParameterizedTest
  @EnumSource(PackFormat.class)
  void codesReadBackFromThePackedFileEqualTheReference(PackFormat format) {
    SafeTensors reference = SafeTensors.read(Fixtures.ofq("ofq-vit-w2a2-codes.safetensors"));
    PackedModel packed = PackedModel.of(PACKED.get(format).model()).orElseThrow();

    assertThat(packed.weights()).hasSize(24);
    for (QuantizedWeight w : packed.weights()) {
      int[] codes = reference.intTensor(w.layer() + ".codes");
      for (int i = 0; i < codes.length; i++) {
        if (codes[i] != w.codes()[i]) {
          throw new AssertionError(
              format
                  + " "
                  + w.layer()
                  + " code "
                  + i
                  + ": "
                  + w.codes()[i]
                  + ", expected "
                  + codes[i]);
        }
      }
      assertThat(w.scales())
          .as("%s %s scales", format, w.layer())
          .isEqualTo(reference.floatTensor(w.layer() + ".scale").data());
    }
  }

  @ParameterizedTest
  @EnumSource(PackFormat.class)
  void accuracyIsTheFakeQuantReferenceWithinPointThree(PackFormat format) {
    double accuracy = OrtClassifier.accuracy(LOGITS.get(format), labels);
    System.out.printf("%s: accuracy %.4f%n", format.id(), accuracy);

    assertThat(accuracy)
        .as("%s accuracy on the 2,000 test images", format.id())
        .isCloseTo(REFERENCE_ACCURACY, within(0.003));
  }

  @ParameterizedTest
  @EnumSource(PackFormat.class)
  void topOneAgreesWithTheReferenceLogits(PackFormat format) {
    Comparison c = Comparison.of(LOGITS.get(format), referenceLogits, labels);
    System.out.printf(
        "%s: top-1 agreement with the PyTorch logits %.4f (%d differ), max logit diff %.3f%n",
        format.id(), c.agreement(), c.disagreements(), c.maxDiff());

    assertThat(c.agreement()).as("%s top-1 agreement", format.id()).isGreaterThanOrEqualTo(0.995);
  }

  @ParameterizedTest
  @EnumSource(PackFormat.class)
  void unpackingGivesBackTheFakeQuantLogitsBitForBit(PackFormat format) {
    OnnxModel unpacked = PackedModel.of(PACKED.get(format).model()).orElseThrow().unpack();

    float[][] logits = logits(unpacked);

    assertThat(logits)
        .as("%s unpacked vs ofq-vit-w2a2.onnx logits", format.id())
        .isEqualTo(fakeQuantLogits);
  }

  @ParameterizedTest
  @EnumSource(PackFormat.class)
  void onnxRuntimeReproducesEveryWeightBitForBit(PackFormat format) {
    ExactnessProbe.Result probe =
        ExactnessProbe.check(
            PACKED.get(format).scan().weights(), format, 0, 0, OfqPacker.EXACT_SESSION_CONFIG);

    assertThat(probe.detail()).as("%s probe", format.id()).isEmpty();
    assertThat(probe.probed()).isEqualTo(663_552);
  }

  @Test
  void autoPicksDqAndSaysWhy() {
    OfqPacker.Result auto = OfqPacker.pack(fakeQuant, OfqPacker.Options.of(null));

    assertThat(auto.format()).isEqualTo(PackFormat.DQ);
    assertThat(auto.notes())
        .containsExactly("dq: ONNX Runtime reproduces all 663,552 probed weights bit for bit");
  }

  @Test
  void everyOtherTensorIsKeptAsItWas() {
    OnnxModel packed = PACKED.get(PackFormat.DQ).model();

    for (Map.Entry<String, TensorProto> e : fakeQuant.tensors().entrySet()) {
      String name = e.getKey();
      if (name.endsWith(".weight_q") && !name.equals("patch.weight_q")) {
        assertThat(packed.tensor(name)).as("%s is packed away", name).isEmpty();
        continue;
      }
      assertThat(packed.tensor(name).map(t -> t.toBuilder().clearName().build()))
          .as("tensor %s", name)
          .contains(e.getValue().toBuilder().clearName().build());
    }
  }

  private static float[][] logits(OnnxModel model) {
    try (OrtClassifier c = new OrtClassifier(model, OfqPacker.EXACT_SESSION_CONFIG)) {
      return c.logits(images, 250);
    }
  }
}

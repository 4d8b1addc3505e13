package dev.graft.onnx.gen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.ofq.LayerVerdict;
import dev.graft.onnx.ofq.OfqScan;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VitGeneratorTest {
  private static final VitSpec SMALL = new VitSpec(64, 2, 4, 128, 32, 8, 3, 10, 1, false);

  @Test
  void generatedVitRunsOnOnnxRuntimeWithOneLogitRowPerImage() {
    OnnxModel vit = VitGenerator.generate(SMALL);
    float[] images = new float[2 * 3 * 32 * 32];
    Random rnd = new Random(2);
    for (int i = 0; i < images.length; i++) {
      images[i] = rnd.nextFloat();
    }

    float[][] logits;
    try (OrtClassifier c = new OrtClassifier(vit)) {
      logits = c.logits(images, new long[] {2, 3, 32, 32});
    }

    assertThat(logits).hasDimensions(2, 10);
    assertThat(logits[0]).as("distinct images, distinct logits").isNotEqualTo(logits[1]);
  }

  @Test
  void sameSeedSameWeights() {
    assertThat(VitGenerator.generate(SMALL).toByteArray())
        .isEqualTo(VitGenerator.generate(SMALL).toByteArray());
  }

  @Test
  void statsqPutsEveryBlockLinearOnTwoBitLevelsAndLeavesPatchAndHeadFloat() {
    VitSpec spec = new VitSpec(64, 3, 4, 128, 32, 8, 3, 10, 1, true);

    OfqScan scan = OfqScan.of(VitGenerator.generate(spec), false);

    assertThat(scan.weights())
        .extracting(w -> w.layer())
        .containsExactly(
            "blocks.0.qkv",
            "blocks.0.proj",
            "blocks.0.fc1",
            "blocks.0.fc2",
            "blocks.1.qkv",
            "blocks.1.proj",
            "blocks.1.fc1",
            "blocks.1.fc2",
            "blocks.2.qkv",
            "blocks.2.proj",
            "blocks.2.fc1",
            "blocks.2.fc2");
    assertThat(scan.verdicts())
        .filteredOn(v -> v.action() == LayerVerdict.Action.SKIP)
        .extracting(LayerVerdict::layer)
        .containsExactly("head");
  }

  @Test
  void deitSmallHasTheDeitSmallShape() {
    VitSpec deit = VitSpec.deitSmall(1, true);

    assertThat(deit.tokens()).isEqualTo(197);
    assertThat(deit.embed() / deit.heads()).isEqualTo(64);
  }
}

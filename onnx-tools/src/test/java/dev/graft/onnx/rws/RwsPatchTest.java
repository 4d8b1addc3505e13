package dev.graft.onnx.rws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RwsPatchTest {
  private static final OnnxModel CLEAN = OnnxModel.load(Fixtures.vgg("clean"));

  private static RwsSignature extract(String corruption, int keep, int levels, boolean perChannel) {
    return RwsExtractor.extract(
            CLEAN,
            OnnxModel.load(Fixtures.vgg("robust-" + corruption)),
            OnnxModel.load(Fixtures.vgg("pretrained")),
            new RwsExtractor.Options(
                corruption, corruption, keep, List.of(), levels, perChannel, 0.3))
        .signature();
  }

  @Test
  void applyingThenDetachingRestoresEveryWeightBitForBit() {
    RwsSignature noise = extract("gaussian_noise", 4, 256, false);
    RwsSignature blur = extract("gaussian_blur", 4, 256, false);
    List<FloatTensor> patched =
        RwsPatch.apply(
            CLEAN::floatTensor,
            List.of(new RwsPatch.Term(noise, 0.7), new RwsPatch.Term(blur, 1.0)));
    OnnxModel live = CLEAN.withTensors(patched);
    assertThat(live.floatTensor("convs.0.weight"))
        .isNotEqualTo(CLEAN.floatTensor("convs.0.weight"));

    List<FloatTensor> base = patched.stream().map(t -> CLEAN.floatTensor(t.name())).toList();
    OnnxModel detached = live.withTensors(base);

    assertThat(detached.toByteArray()).isEqualTo(CLEAN.toByteArray());
  }

  @Test
  void serializedSignatureParsesBackToTheSameDeltas() {
    RwsSignature sig = extract("contrast", 3, 16, true);

    RwsSignature back = RwsSignature.parse(sig.toByteArray(), "roundtrip");

    assertThat(back.deltas()).isEqualTo(sig.deltas());
    assertThat(back.fingerprint()).isEqualTo(sig.fingerprint());
    assertThat(back.layers()).containsExactly("convs.0", "convs.1", "convs.2");
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 16, 255, 256, 1000})
  void codesPackAndUnpackForEveryWidth(int levels) {
    int bits = LinearQuantizer.bitsFor(levels);
    int[] codes = new Random(levels).ints(997, 0, levels).toArray();

    int[] back = LinearQuantizer.unpack(LinearQuantizer.pack(codes, bits), codes.length, bits);

    assertThat(back).containsExactly(codes);
    assertThat(LinearQuantizer.pack(codes, bits)).hasSize((997 * bits + 7) / 8);
  }

  @Test
  void quantisationFollowsTheReferenceFormula() {
    float[] x = {-1f, -0.5f, 0f, 0.3f, 1f};
    int[] codes = new int[x.length];

    LinearQuantizer.encode(x, 0, x.length, -1f, 1f, 5, codes);

    // (x - min) / (max - min) * (N - 1) = 0, 1, 2, 2.6, 4 -> rounded
    assertThat(codes).containsExactly(0, 1, 2, 3, 4);
    assertThat(LinearQuantizer.decode(3, -1f, 1f, 5)).isEqualTo(0.5f);
  }

  @Test
  void perChannelErrorIsNoWorseThanPerTensor() {
    RwsSignature tensor = extract("gaussian_noise", 4, 16, false);
    RwsSignature channel = extract("gaussian_noise", 4, 16, true);

    for (int i = 0; i < tensor.proto().getLayersCount(); i++) {
      assertThat(channel.proto().getLayers(i).getReconstructionError())
          .as("layer %s", tensor.proto().getLayers(i).getTensor())
          .isLessThanOrEqualTo(tensor.proto().getLayers(i).getReconstructionError() + 1e-9);
    }
  }

  @Test
  void autoKeepChoosesTheShortestPrefixHoldingTheShare() {
    List<RwsExtractor.LayerChange> changes =
        List.of(
            new RwsExtractor.LayerChange("a", 1),
            new RwsExtractor.LayerChange("b", 1),
            new RwsExtractor.LayerChange("c", 2));

    assertThat(RwsExtractor.autoKeep(changes, 0.25)).isEqualTo(1);
    assertThat(RwsExtractor.autoKeep(changes, 0.5)).isEqualTo(2);
    assertThat(RwsExtractor.autoKeep(changes, 0.51)).isEqualTo(3);
  }

  @Test
  void nonFiniteAlphaIsRefused() {
    RwsSignature sig = extract("gaussian_noise", 1, 256, false);
    assertThatThrownBy(() -> new RwsPatch.Term(sig, Double.NaN))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("finite");
  }
}

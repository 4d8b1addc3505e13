package dev.graft.onnx.ofq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.safetensors.SafeTensors;
import java.util.List;
import org.junit.jupiter.api.Test;

class OfqScanTest {
  private static final OnnxModel W2A2 = OnnxModel.load(Fixtures.ofq("ofq-vit-w2a2.onnx"));

  @Test
  void recoveredCodesAndScalesEqualTheReferenceExactly() {
    SafeTensors reference = SafeTensors.read(Fixtures.ofq("ofq-vit-w2a2-codes.safetensors"));

    List<QuantizedWeight> weights = OfqScan.of(W2A2, false).weights();

    assertThat(weights).hasSize(24);
    long values = 0;
    for (QuantizedWeight w : weights) {
      int[] codes = reference.intTensor(w.layer() + ".codes");
      float[] scales = reference.floatTensor(w.layer() + ".scale").data();
      byte[] expected = new byte[codes.length];
      for (int i = 0; i < codes.length; i++) {
        expected[i] = (byte) codes[i];
      }
      assertThat(w.codes()).as("%s codes", w.layer()).isEqualTo(expected);
      assertThat(w.scales()).as("%s scales", w.layer()).isEqualTo(scales);
      values += w.weightCount();
    }
    assertThat(values).as("2-bit weights of the fixture").isEqualTo(663_552);
  }

  @Test
  void eightBitPatchEmbeddingAndHeadAreSkippedWithReasons() {
    List<LayerVerdict> verdicts = OfqScan.of(W2A2, false).verdicts();

    assertThat(verdicts).hasSize(26);
    assertThat(verdicts.get(0).layer()).isEqualTo("patch");
    assertThat(verdicts.get(0).action()).isEqualTo(LayerVerdict.Action.SKIP);
    assertThat(verdicts.get(0).reason()).isEqualTo("not 2-bit: row 0 holds 16 distinct values");
    LayerVerdict head = verdicts.get(25);
    assertThat(head.op()).isEqualTo("Gemm");
    assertThat(head.action()).isEqualTo(LayerVerdict.Action.SKIP);
    assertThat(head.reason()).startsWith("not 2-bit: row 0 holds");
    assertThat(verdicts.subList(1, 25))
        .allSatisfy(v -> assertThat(v.action()).as(v.layer()).isEqualTo(LayerVerdict.Action.PACK));
  }

  @Test
  void gemmWithTransposedWeightInAConstantNodeIsFound() {
    TinyModels.Weight w = TinyModels.Weight.random(10, 32, 3);

    OfqScan scan = OfqScan.of(TinyModels.gemmConstant(w), false);

    assertThat(scan.weights()).hasSize(1);
    QuantizedWeight q = scan.weights().get(0);
    assertThat(q.tensor()).isEqualTo("head.weight");
    assertThat(q.outFeatures()).isEqualTo(10);
    assertThat(q.inFeatures()).isEqualTo(32);
    assertThat(q.codes()).isEqualTo(w.codes());
    assertThat(q.scales()).isEqualTo(w.scales());
  }

  @Test
  void twoBitWeightOnTheLeftOfMatMulIsRefused() {
    OfqScan scan = OfqScan.of(TinyModels.leftOperand(TinyModels.Weight.random(8, 32, 4)), false);

    assertThat(scan.refusals()).hasSize(1);
    assertThatThrownBy(scan::requirePackable)
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("w): 2-bit weight in a place Graft cannot pack")
        .hasMessageContaining("MatMul left's left operand");
  }

  @Test
  void strayRowIsRefusedWithoutRequantizeAndRequantizedWithIt() {
    OnnxModel damaged = withFifthLevel(W2A2, "blocks.0.qkv.weight_q", 17);

    OfqScan strict = OfqScan.of(damaged, false);
    OfqScan lenient = OfqScan.of(damaged, true);

    LayerVerdict refused = strict.refusals().get(0);
    assertThat(refused.layer()).isEqualTo("blocks.0.qkv");
    assertThat(refused.reason())
        .isEqualTo(
            "1 of 288 rows are not on StatsQ levels (row 17 holds 5 distinct values); pass"
                + " --allow-requantize to re-quantise them with StatsQ post-training");
    assertThat(lenient.refusals()).isEmpty();
    LayerVerdict repaired = lenient.verdicts().get(1);
    assertThat(repaired.requantizedRows()).isEqualTo(1);
    assertThat(repaired.reason()).startsWith("re-quantised 1 of 288 rows with StatsQ");
    assertThat(lenient.weights()).hasSize(24);
  }

  @Test
  void floatModelHasNoPackableLayer() {
    OfqScan scan = OfqScan.of(OnnxModel.load(Fixtures.ofq("ofq-vit-fp32.onnx")), false);

    assertThat(scan.weights()).isEmpty();
    assertThatThrownBy(scan::requirePackable)
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("ofq-vit-fp32.onnx: no packable layer");
  }

  @Test
  void requantizeTurnsAFloatModelIntoTwoBitButKeepsFirstAndLastLayers() {
    OfqScan scan = OfqScan.of(OnnxModel.load(Fixtures.ofq("ofq-vit-fp32.onnx")), true);

    assertThat(scan.weights()).hasSize(24);
    assertThat(scan.verdicts().get(0).action()).isEqualTo(LayerVerdict.Action.SKIP);
    assertThat(scan.verdicts().get(25).action()).isEqualTo(LayerVerdict.Action.SKIP);
    assertThat(scan.weights()).allSatisfy(w -> assertThat(w.requantizedRows()).isPositive());
  }

  /** The model with one value of a row of an {@code [in, out]} weight moved off its levels. */
  static OnnxModel withFifthLevel(OnnxModel model, String tensor, int row) {
    FloatTensor w = model.floatTensor(tensor);
    float[] data = w.data().clone();
    int out = (int) w.dims()[1];
    data[3 * out + row] *= 1.01f;
    return model.withTensors(List.of(w.withData(data)));
  }
}

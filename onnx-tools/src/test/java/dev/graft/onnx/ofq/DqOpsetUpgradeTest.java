package dev.graft.onnx.ofq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.proto.NodeProto;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DqOpsetUpgradeTest {
  private final TinyModels.Weight weight = TinyModels.Weight.random(24, 48, 5);

  @Test
  void reduceMeanAxesMoveToAnInputAndTheModelRunsAtOpset25() throws Exception {
    OnnxModel model = TinyModels.matMulThenReduceMean(weight);

    OnnxModel packed = OfqPacker.pack(model, OfqPacker.Options.of(PackFormat.DQ)).model();

    assertThat(packed.proto().getOpsetImport(0).getVersion()).isEqualTo(25);
    assertThat(packed.proto().getIrVersion()).isEqualTo(13);
    NodeProto mean =
        packed.proto().getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("ReduceMean"))
            .findFirst()
            .orElseThrow();
    assertThat(mean.getInputCount()).as("data and axes").isEqualTo(2);
    assertThat(mean.getAttributeList()).noneMatch(a -> a.getName().equals("axes"));
    float[] x = TinyModels.randomInput(5, 48, 1);
    float[] expected = run(model, x);
    float[] actual = run(packed, x);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i])
          .as("mean of row %d", i)
          .isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-5f));
    }
  }

  @Test
  void modelBelowOpset13IsRefusedForDqButPacksAsNbits() {
    OnnxModel old =
        OnnxModel.of(
            TinyModels.matMul(weight).proto().toBuilder()
                .setOpsetImport(
                    0,
                    TinyModels.matMul(weight).proto().getOpsetImport(0).toBuilder().setVersion(11))
                .build(),
            null,
            "opset-11 model");

    assertThatThrownBy(() -> OfqPacker.pack(old, OfqPacker.Options.of(PackFormat.DQ)))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("this one is opset 11: use --format nbits");
    assertThat(OfqPacker.pack(old, OfqPacker.Options.of(null)).format())
        .as("auto falls back")
        .isEqualTo(PackFormat.NBITS);
  }

  private static float[] run(OnnxModel m, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = OrtClassifier.options(OfqPacker.EXACT_SESSION_CONFIG);
        OrtSession s = env.createSession(m.toByteArray(), o);
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {5, 48});
        OrtSession.Result r = s.run(Map.of("x", in))) {
      float[][] y = (float[][]) r.get(0).getValue();
      float[] flat = new float[y.length];
      for (int i = 0; i < y.length; i++) {
        flat[i] = y[i][0];
      }
      return flat;
    }
  }
}

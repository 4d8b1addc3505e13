package dev.graft.onnx.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeltaInputsTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** y = x * w (element-wise, w of shape [4]); the weight is read through the patch chain. */
  private static OnnxModel scale() {
    return new TinyGraph()
        .input(TinyGraph.floats("x", 4))
        .output(TinyGraph.floats("y", 4))
        .initializer("w", new long[] {4}, 0.1f, -0.2f, 3.0f, -0.0f)
        .node("Mul", List.of("x", "w"), "y")
        .build();
  }

  private static float[] run(OnnxModel model, float[] x, byte[] index, float[] table)
      throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = ENV.createSession(model.toByteArray(), o);
        OnnxTensor xt = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {1, 4});
        OnnxTensor it =
            OnnxTensor.createTensor(
                ENV,
                ByteBuffer.allocateDirect(4).put(index).flip(),
                new long[] {4},
                OnnxJavaType.UINT8);
        OnnxTensor tt =
            OnnxTensor.createTensor(ENV, FloatBuffer.wrap(table), new long[] {table.length})) {
      Map<String, OnnxTensor> feeds = new HashMap<>();
      feeds.put("x", xt);
      feeds.put(DeltaInputs.indexInput("w"), it);
      feeds.put(DeltaInputs.tableInput("w"), tt);
      try (OrtSession.Result r = s.run(feeds)) {
        return ((float[][]) r.get(0).getValue())[0];
      }
    }
  }

  @Test
  void theWeightIsPatchedByItsTableEntryExactly() throws OrtException {
    OnnxModel model = DeltaInputs.add(scale(), List.of("w"));
    float[] table = {1e-3f, -0.25f, 7.5f};

    float[] y = run(model, new float[] {1, 1, 1, 1}, new byte[] {2, 0, 1, 1}, table);

    float[] w = {0.1f, -0.2f, 3.0f, -0.0f};
    byte[] index = {2, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
      assertThat(y[i])
          .as("element %d reads w + table[index], one float32 addition", i)
          .isEqualTo(w[i] + table[index[i]]);
    }
  }

  @Test
  void negativeZeroDeltasLeaveEveryBitOfTheWeight() throws OrtException {
    OnnxModel model = DeltaInputs.add(scale(), List.of("w"));

    float[] y = run(model, new float[] {1, 1, 1, 1}, new byte[4], new float[] {-0.0f});

    assertThat(Float.floatToRawIntBits(y[3]))
        .as("-0.0 * 1 stays -0.0: the weight kept its sign of zero")
        .isEqualTo(Float.floatToRawIntBits(-0.0f));
    assertThat(y).containsExactly(0.1f, -0.2f, 3.0f, -0.0f);
  }

  @Test
  void theIndexInputIsUint8OfTheWeightsShape() {
    OnnxModel model = DeltaInputs.add(scale(), List.of("w"));

    var index =
        model.proto().getGraph().getInputList().stream()
            .filter(v -> v.getName().equals(DeltaInputs.indexInput("w")))
            .findFirst()
            .orElseThrow();
    assertThat(index.getType().getTensorType().getElemType()).isEqualTo(2); // UINT8
    assertThat(index.getType().getTensorType().getShape().getDim(0).getDimValue()).isEqualTo(4);
  }

  @Test
  void unknownTensorsAreRefused() {
    assertThatThrownBy(() -> DeltaInputs.add(scale(), List.of("nope")))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("no initializer nope");
  }
}

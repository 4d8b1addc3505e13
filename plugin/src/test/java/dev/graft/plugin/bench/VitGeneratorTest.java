package dev.graft.plugin.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.OrtModelRuntime;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VitGeneratorTest {
  @TempDir Path tmp;

  @Test
  void deitSmallHasTheParameterCountAndLayersOfDeitS() {
    OnnxModel vit = VitGenerator.generate(VitGenerator.Config.deitSmall());

    long params = 0;
    for (TensorProto t : vit.proto().getGraph().getInitializerList()) {
      if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        params += t.getDimsList().stream().reduce(1L, (a, b) -> a * b);
      }
    }
    assertThat(params).as("DeiT-S/16 has 22.05M parameters").isBetween(22_000_000L, 22_100_000L);
    assertThat(vit.layers())
        .extracting(WeightLayer::name)
        .as("patch embedding, 4 linears in each of 12 blocks, head")
        .hasSize(50)
        .startsWith("patch", "blocks.0.qkv", "blocks.0.proj", "blocks.0.fc1", "blocks.0.fc2")
        .endsWith("head");
    assertThat(vit.layers().get(1).bias())
        .as("MatMul + Add is found as weight and bias")
        .isEqualTo("blocks.0.qkv.bias");
  }

  @Test
  void aSmallVitRunsInOnnxRuntimeWithASymbolicBatch() {
    OnnxModel vit = VitGenerator.generate(new VitGenerator.Config(32, 8, 32, 2, 4, 64, 10));
    Path file = tmp.resolve("vit.onnx");
    vit.save(file);

    try (OrtModelRuntime r =
        OrtModelRuntime.open("vit", ModelFile.read(file), ModelSettings.defaults())) {
      InferenceResult out =
          r.infer(
              Map.of(
                  "input",
                  new FloatTensor("input", new long[] {3, 3, 32, 32}, new float[3 * 3 * 1024])),
              Set.of());
      assertThat(out.outputs().get(0).dims()).containsExactly(3, 10);
    }
  }
}

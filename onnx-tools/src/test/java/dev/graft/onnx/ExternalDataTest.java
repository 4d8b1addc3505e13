package dev.graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.proto.TensorProto;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExternalDataTest {
  @TempDir Path tmp;

  @Test
  void bigInitializersMoveToAnAlignedDataFileAndSmallOnesStayInline() {
    OnnxModel vgg = OnnxModel.load(Fixtures.vgg("clean"));

    ExternalData.Externalized ext = ExternalData.externalize(vgg, tmp, "model", 4096);

    assertThat(ext.tensors())
        .as("conv weights of 16x16x3x3 floats and more; biases stay inline")
        .containsKeys("convs.1.weight", "convs.7.weight")
        .doesNotContainKeys("convs.0.bias", "fc.bias");
    ext.tensors()
        .values()
        .forEach(l -> assertThat(l.offset() % ExternalData.ALIGNMENT).as("offset").isZero());
    for (String name : vgg.initializerNames()) {
      assertThat(ext.model().floatTensor(name).data())
          .as("%s reads the same through the data file", name)
          .containsExactly(vgg.floatTensor(name).data());
    }
    assertThat(
            OnnxModel.load(ext.modelFile())
                .tensor("convs.1.weight")
                .orElseThrow()
                .getDataLocation())
        .isEqualTo(TensorProto.DataLocation.EXTERNAL);
  }

  @Test
  void onnxRuntimeLoadsTheExternalizedModelWithTheSameOutputs() throws Exception {
    OnnxModel vgg = OnnxModel.load(Fixtures.vgg("clean"));
    ExternalData.Externalized ext = ExternalData.externalize(vgg, tmp, "model", 1024);
    assertThat(Files.size(ext.modelFile())).as("the .onnx shrank").isLessThan(64 * 1024);

    float[] x = new float[2 * 28 * 28];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 17) / 17f;
    }
    assertThat(run(ext.modelFile().toString(), x)).containsExactly(run(vgg, x));
  }

  @Test
  void inlineUndoesExternalize() {
    OnnxModel vgg = OnnxModel.load(Fixtures.vgg("clean"));
    ExternalData.Externalized ext = ExternalData.externalize(vgg, tmp, "model", 0);

    OnnxModel inlined = ExternalData.inline(OnnxModel.load(ext.modelFile()));

    assertThat(inlined.proto().getGraph().getInitializerList()).noneMatch(ExternalData::isExternal);
    assertThat(inlined.weightsDigest()).isEqualTo(vgg.weightsDigest());
    assertThat(ExternalData.inline(vgg)).as("nothing to inline: same instance").isSameAs(vgg);
  }

  private static float[] run(Object model, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s =
            model instanceof OnnxModel m
                ? env.createSession(m.toByteArray())
                : env.createSession((String) model);
        OnnxTensor t =
            OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 1, 28, 28});
        OrtSession.Result r = s.run(Map.of("input", t))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[b.remaining()];
      b.get(out);
      return out;
    }
  }
}

package dev.graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.StringStringEntryProto;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnnxModelTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rws/mnist-vgg-clean.onnx",
        "ofq/ofq-vit-w2a2.onnx",
        "ofq/ofq-vit-fp32.onnx",
        "wa/wa-backbone.onnx"
      })
  void parsedModelReserializesByteIdentically(String fixture) throws IOException {
    Path file = Fixtures.root().resolve(fixture);
    byte[] original = Files.readAllBytes(file);

    byte[] again = OnnxModel.load(file).toByteArray();

    assertThat(again).as("re-serialised %s", fixture).isEqualTo(original);
  }

  @Test
  void vggLayersAreTheEightConvsThenTheClassifierInOrder() {
    List<WeightLayer> layers = OnnxModel.load(Fixtures.vgg("clean")).layers();

    assertThat(layers)
        .extracting(WeightLayer::name)
        .containsExactly(
            "convs.0", "convs.1", "convs.2", "convs.3", "convs.4", "convs.5", "convs.6", "convs.7",
            "fc");
    assertThat(layers.get(0).weight()).isEqualTo("convs.0.weight");
    assertThat(layers.get(0).bias()).isEqualTo("convs.0.bias");
    assertThat(layers.get(8).opType()).isEqualTo("Gemm");
  }

  @Test
  void typedFloatDataReadsLikeRawData() {
    OnnxModel model = OnnxModel.load(Fixtures.vgg("clean"));
    FloatTensor raw = model.floatTensor("convs.1.weight");
    ModelProto typed =
        rewriteInitializer(
            model.proto(),
            "convs.1.weight",
            t -> {
              TensorProto.Builder b = t.toBuilder().clearRawData();
              for (float v : raw.data()) {
                b.addFloatData(v);
              }
              return b.build();
            });

    FloatTensor back = OnnxModel.of(typed, tmp, "typed").floatTensor("convs.1.weight");

    assertThat(back).isEqualTo(raw);
  }

  @Test
  void externalDataIsReadFromTheModelFolder() throws IOException {
    OnnxModel model = OnnxModel.load(Fixtures.vgg("clean"));
    FloatTensor w = model.floatTensor("convs.2.weight");
    byte[] bytes = littleEndian(w.data());
    byte[] file = new byte[16 + bytes.length];
    System.arraycopy(bytes, 0, file, 16, bytes.length);
    Files.write(tmp.resolve("weights.bin"), file);
    ModelProto external =
        rewriteInitializer(
            model.proto(),
            "convs.2.weight",
            t ->
                t.toBuilder()
                    .clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", "weights.bin"))
                    .addExternalData(entry("offset", "16"))
                    .addExternalData(entry("length", Integer.toString(bytes.length)))
                    .build());
    Path modelFile = tmp.resolve("external.onnx");
    Files.write(modelFile, external.toByteArray());

    FloatTensor back = OnnxModel.load(modelFile).floatTensor("convs.2.weight");

    assertThat(back).isEqualTo(w);
  }

  @Test
  void externalDataOutsideTheModelFolderIsRefused() throws IOException {
    OnnxModel model = OnnxModel.load(Fixtures.vgg("clean"));
    ModelProto external =
        rewriteInitializer(
            model.proto(),
            "convs.2.weight",
            t ->
                t.toBuilder()
                    .clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", "../escape.bin"))
                    .build());
    Path dir = Files.createDirectories(tmp.resolve("m"));
    Files.write(dir.resolve("model.onnx"), external.toByteArray());

    assertThatThrownBy(
            () -> OnnxModel.load(dir.resolve("model.onnx")).floatTensor("convs.2.weight"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("leaves the model folder");
  }

  @Test
  void constantNodeWeightsAreFoundReadAndWritten() {
    OnnxModel model = OnnxModel.load(Fixtures.vgg("clean"));
    FloatTensor w = model.floatTensor("fc.weight");
    GraphProto.Builder g = model.proto().getGraph().toBuilder();
    int idx = 0;
    while (!g.getInitializer(idx).getName().equals("fc.weight")) {
      idx++;
    }
    TensorProto t = g.getInitializer(idx);
    g.removeInitializer(idx);
    g.addNode(
        0,
        NodeProto.newBuilder()
            .setOpType("Constant")
            .addOutput("fc.weight")
            .addAttribute(
                AttributeProto.newBuilder()
                    .setName("value")
                    .setType(AttributeProto.AttributeType.TENSOR)
                    .setT(t)));
    OnnxModel withConstant = OnnxModel.of(model.proto().toBuilder().setGraph(g).build(), tmp, "c");

    assertThat(withConstant.floatTensor("fc.weight")).isEqualTo(w);
    assertThat(withConstant.layers()).extracting(WeightLayer::weight).contains("fc.weight");

    float[] changed = w.data().clone();
    changed[3] += 1f;
    OnnxModel patched = withConstant.withTensors(List.of(w.withData(changed)));
    assertThat(patched.floatTensor("fc.weight").data()).containsExactly(changed);
  }

  @Test
  void replacingTensorsThenRestoringTheBaseGivesTheOriginalBytes() throws IOException {
    Path file = Fixtures.vgg("clean");
    OnnxModel model = OnnxModel.load(file);
    FloatTensor base = model.floatTensor("convs.0.weight");
    float[] changed = base.data().clone();
    changed[0] = 42f;

    OnnxModel restored =
        model.withTensors(List.of(base.withData(changed))).withTensors(List.of(base));

    assertThat(restored.toByteArray()).isEqualTo(Files.readAllBytes(file));
  }

  @Test
  void notAnOnnxFileIsRefusedWithItsName() throws IOException {
    Path junk = tmp.resolve("junk.onnx");
    Files.writeString(junk, "this is not a model");

    assertThatThrownBy(() -> OnnxModel.load(junk))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("junk.onnx")
        .hasMessageContaining("not an ONNX model");
  }

  @Test
  void truncatedModelIsRefused() throws IOException {
    byte[] bytes = Files.readAllBytes(Fixtures.vgg("clean"));
    Path cut = tmp.resolve("cut.onnx");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));

    assertThatThrownBy(() -> OnnxModel.load(cut))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("cut.onnx");
  }

  @Test
  void missingFileIsNotFound() {
    assertThatThrownBy(() -> OnnxModel.load(tmp.resolve("absent.onnx")))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("absent.onnx: no such file")
        .extracting(e -> ((GraftException) e).code())
        .isEqualTo(GraftException.Code.NOT_FOUND);
  }

  static ModelProto rewriteInitializer(
      ModelProto proto, String name, java.util.function.UnaryOperator<TensorProto> change) {
    GraphProto.Builder g = proto.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (g.getInitializer(i).getName().equals(name)) {
        g.setInitializer(i, change.apply(g.getInitializer(i)));
      }
    }
    return proto.toBuilder().setGraph(g).build();
  }

  static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  static byte[] littleEndian(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  static ByteString raw(float[] v) {
    return ByteString.copyFrom(littleEndian(v));
  }
}

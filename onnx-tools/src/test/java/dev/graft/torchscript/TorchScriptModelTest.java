package dev.graft.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.rws.Fingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TorchScriptModelTest {
  @TempDir Path tmp;

  static Path pt(String variant) {
    return Fixtures.rws("mnist-vgg-" + variant + ".pt");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"clean", "clean-v2", "pretrained", "robust-gaussian_noise", "robust-contrast"})
  void everyTensorEqualsTheOnnxTwinsBitForBit(String variant) {
    TorchScriptModel ts = TorchScriptModel.load(pt(variant));
    OnnxModel onnx = OnnxModel.load(Fixtures.vgg(variant));

    assertThat(ts.tensors().stream().map(TorchScriptModel.TensorInfo::name))
        .as("tensor names of %s.pt in module order vs the ONNX initializers", variant)
        .containsExactlyElementsOf(onnx.tensors().keySet());
    for (TorchScriptModel.TensorInfo t : ts.tensors()) {
      assertThat(ts.floatTensor(t.name()))
          .as("tensor %s of %s: .pt and .onnx hold the same float32 values", t.name(), variant)
          .isEqualTo(onnx.floatTensor(t.name()));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"clean", "clean-v2", "robust-impulse_noise"})
  void fingerprintEqualsTheOnnxTwinsDigestIncluded(String variant) {
    Fingerprint ts = Fingerprint.of(TorchScriptModel.load(pt(variant)));
    Fingerprint onnx = Fingerprint.of(OnnxModel.load(Fixtures.vgg(variant)));

    assertThat(ts.tensors()).as("architecture").isEqualTo(onnx.tensors());
    assertThat(ts.weightsSha256())
        .as("the digest uses the ONNX encoding, so equal weights give equal digests")
        .isEqualTo(onnx.weightsSha256());
  }

  @Test
  void layersAreTheOnnxTwinsLayers() {
    List<WeightLayer> ts = TorchScriptModel.load(pt("clean")).layers();
    List<WeightLayer> onnx = OnnxModel.load(Fixtures.vgg("clean")).layers();

    assertThat(ts)
        .extracting(WeightLayer::name)
        .containsExactlyElementsOf(onnx.stream().map(WeightLayer::name).toList());
    assertThat(ts)
        .extracting(WeightLayer::opType)
        .containsExactlyElementsOf(onnx.stream().map(WeightLayer::opType).toList());
    assertThat(ts)
        .extracting(WeightLayer::tensorNames)
        .containsExactlyElementsOf(onnx.stream().map(WeightLayer::tensorNames).toList());
  }

  @Test
  void isArchiveTellsPtFromOnnx() {
    assertThat(TorchScriptModel.isArchive(pt("clean"))).as(".pt").isTrue();
    assertThat(TorchScriptModel.isArchive(Fixtures.vgg("clean"))).as(".onnx").isFalse();
  }

  @Test
  void stateDictTensorsAreNamedByKeyInOrder() throws IOException {
    Path file =
        new StateDictWriter()
            .floats("fc.weight", new long[] {2, 3}, 1, 2, 3, 4, 5, 6)
            .floats("fc.bias", new long[] {2}, 7, 8)
            .floats("norm.weight", new long[] {3}, 1, 1, 1)
            .write(tmp.resolve("sd.pt"));

    TorchScriptModel m = TorchScriptModel.load(file);

    assertThat(m.tensors())
        .extracting(TorchScriptModel.TensorInfo::name)
        .containsExactly("fc.weight", "fc.bias", "norm.weight");
    assertThat(m.floatTensor("fc.bias").data()).containsExactly(7f, 8f);
    assertThat(m.layers())
        .as("a state dict has no classes: a rank-2 weight is a Gemm, a rank-1 one no layer")
        .containsExactly(new WeightLayer("fc", "Gemm", "fc", "fc.weight", "fc.bias"));
  }

  @Test
  void stridedViewIsReadInRowMajorOrder() throws IOException {
    byte[] storage = floatBytes(0, 1, 2, 3, 4, 5, 6);
    Path file =
        new StateDictWriter()
            .tensor(
                new StateDictWriter.Tensor(
                    "t", "FloatStorage", storage, 1, new long[] {3, 2}, new long[] {1, 3}))
            .write(tmp.resolve("view.pt"));

    float[] values = TorchScriptModel.load(file).floatTensor("t").data();

    assertThat(values)
        .as("the transpose, starting at element 1, of the 2x3 matrix [[1,2,3],[4,5,6]]")
        .containsExactly(1, 4, 2, 5, 3, 6);
  }

  @Test
  void halfDoubleAndBfloat16StoragesAreReadAsFloat32() throws IOException {
    ByteBuffer d =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5).putDouble(-3);
    ByteBuffer h =
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort((short) 0x3c00)
            .putShort((short) 0xc000);
    ByteBuffer b =
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort((short) 0x3f80)
            .putShort((short) 0x4040);
    Path file =
        new StateDictWriter()
            .tensor(tensor("d", "DoubleStorage", d.array(), 2))
            .tensor(tensor("h", "HalfStorage", h.array(), 2))
            .tensor(tensor("b", "BFloat16Storage", b.array(), 2))
            .write(tmp.resolve("types.pt"));

    TorchScriptModel m = TorchScriptModel.load(file);

    assertThat(m.floatTensor("d").data()).containsExactly(0.5f, -3f);
    assertThat(m.floatTensor("h").data()).as("binary16 1.0, -2.0").containsExactly(1f, -2f);
    assertThat(m.floatTensor("b").data()).as("bfloat16 1.0, 3.0").containsExactly(1f, 3f);
    assertThat(m.tensors())
        .extracting(TorchScriptModel.TensorInfo::dataType)
        .containsExactly(
            TensorProto.DataType.DOUBLE_VALUE,
            TensorProto.DataType.FLOAT16_VALUE,
            TensorProto.DataType.BFLOAT16_VALUE);
  }

  @Test
  void integerTensorIsListedButNotReadAsFloat() throws IOException {
    Path file =
        new StateDictWriter()
            .tensor(tensor("bn.num_batches_tracked", "LongStorage", new byte[8], 1))
            .write(tmp.resolve("long.pt"));

    TorchScriptModel m = TorchScriptModel.load(file);

    assertThat(m.tensors().get(0).dataType()).isEqualTo(TensorProto.DataType.INT64_VALUE);
    assertThatThrownBy(() -> m.floatTensor("bn.num_batches_tracked"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("not floating point");
  }

  @Test
  void fileThatIsNotAZipIsRefused() throws IOException {
    Path file = Files.write(tmp.resolve("junk.pt"), new byte[] {1, 2, 3, 4, 5});

    assertRefused(file, "not a PyTorch archive");
  }

  @Test
  void zipWithoutDataPklIsRefused() throws IOException {
    Path file = tmp.resolve("empty.pt");
    try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
      zip.putNextEntry(new java.util.zip.ZipEntry("a/version"));
      zip.closeEntry();
    }

    assertRefused(file, "no <name>/data.pkl");
  }

  @Test
  void truncatedPickleIsRefused() throws IOException {
    StateDictWriter w = new StateDictWriter().floats("w", new long[] {2}, 1, 2);
    byte[] pickle = w.pickle();
    Path file = w.pickle(Arrays.copyOf(pickle, pickle.length / 2)).write(tmp.resolve("cut.pt"));

    assertRefused(file, "truncated or malformed pickle");
  }

  @Test
  void unsupportedOpcodeIsRefusedByName() throws IOException {
    byte[] pickle = {(byte) 0x80, 2, 'I', '1', '\n', '.'};
    Path file = new StateDictWriter().pickle(pickle).write(tmp.resolve("int.pt"));

    assertRefused(file, "unsupported opcode 0x49");
  }

  @Test
  void viewOutsideItsStorageIsRefused() throws IOException {
    Path file =
        new StateDictWriter()
            .tensor(
                new StateDictWriter.Tensor(
                    "w", "FloatStorage", floatBytes(1, 2, 3), 2, new long[] {2}, new long[] {1}))
            .write(tmp.resolve("outside.pt"));

    assertRefused(file, "reaches element 3 of a 3-element storage");
  }

  @Test
  void missingFileIsNotFound() {
    assertThatThrownBy(() -> TorchScriptModel.load(tmp.resolve("none.pt")))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.NOT_FOUND));
  }

  private static void assertRefused(Path file, String message) {
    assertThatThrownBy(() -> TorchScriptModel.load(file))
        .as("loading %s", file.getFileName())
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }

  private static StateDictWriter.Tensor tensor(String name, String type, byte[] bytes, long n) {
    return new StateDictWriter.Tensor(name, type, bytes, 0, new long[] {n}, new long[] {1});
  }

  private static byte[] floatBytes(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }
}

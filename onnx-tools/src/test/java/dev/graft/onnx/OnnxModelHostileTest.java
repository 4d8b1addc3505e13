package dev.graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX models whose initializers claim sizes their data does not back, or point outside their data:
 * refused with a {@link GraftException} naming the tensor, before anything of the claimed size is
 * allocated.
 */
class OnnxModelHostileTest {
  private static final long SMALL = 1 << 20;

  @TempDir Path dir;

  @Test
  void initializerDimsClaiming2pow40ElementsAreRefusedBeforeAllocation() {
    OnnxModel model = parse(FuzzSeeds.gemm(new long[] {1L << 20, 1L << 20}, new byte[4]));

    Allocations.Measured m = Allocations.measure(() -> model.floatTensor("W"));

    assertThat(m.thrown())
        .as("raw_data of 4 bytes under dims [2^20, 2^20]")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("tensor W has 1099511627776 elements, too many");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
    assertThatThrownBy(model::weightsDigest)
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("too many");
  }

  @Test
  void rawDataShorterThanTheDimsIsRefusedBeforeAllocation() {
    // 2^24 floats would fit the heap; raw_data holds one
    OnnxModel model = parse(FuzzSeeds.gemm(new long[] {1L << 24}, new byte[4]));

    Allocations.Measured m = Allocations.measure(() -> model.floatTensor("W"));

    assertThat(m.thrown())
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("tensor W should hold 67108864 bytes of data, has 4");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void typedDataShorterThanTheDimsIsRefusedBeforeAllocation() {
    TensorProto w =
        TensorProto.newBuilder()
            .setName("W")
            .addDims(1L << 24)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addFloatData(1f)
            .build();
    OnnxModel model = parse(FuzzSeeds.withWeight(w));

    Allocations.Measured m = Allocations.measure(() -> model.floatTensor("W"));

    assertThat(m.thrown())
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("tensor W should hold 16777216 values, has 1");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void dimsWhoseProductOverflowsLongAreRefused() {
    OnnxModel model = parse(FuzzSeeds.gemm(new long[] {1L << 32, 1L << 32, 2}, new byte[4]));

    assertThatThrownBy(() -> model.floatTensor("W"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining(
            "hostile.onnx: tensor W: shape [4294967296, 4294967296, 2] has more than 2^63"
                + " elements");
  }

  @Test
  void externalDataLengthPastTheFileIsRefusedBeforeAllocation() throws IOException {
    Files.write(dir.resolve("w.data"), new byte[64]);
    OnnxModel model =
        parse(FuzzSeeds.withWeight(FuzzSeeds.externalFloats("w.data", "0", "4398046511104", 4)));

    Allocations.Measured m = Allocations.measure(() -> model.floatTensor("W"));

    assertThat(m.thrown())
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("external data [0, +4398046511104) is outside w.data (64 bytes)");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void externalDataOffsetNearLongMaxIsRefused() throws IOException {
    // offset + length overflows a long, which once passed the bounds check
    Files.write(dir.resolve("w.data"), new byte[64]);
    OnnxModel model =
        parse(
            FuzzSeeds.withWeight(
                FuzzSeeds.externalFloats("w.data", "9223372036854775800", "16", 4)));

    assertThatThrownBy(() -> model.floatTensor("W"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("external data [9223372036854775800, +16) is outside w.data");
  }

  @Test
  void externalDataWithNegativeLengthIsRefused() throws IOException {
    Files.write(dir.resolve("w.data"), new byte[64]);
    OnnxModel model = parse(FuzzSeeds.withWeight(FuzzSeeds.externalFloats("w.data", "0", "-1", 4)));

    assertThatThrownBy(() -> model.floatTensor("W"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("external data length -1 is negative");
  }

  @Test
  void externalDataPathWithNulIsRefused() {
    OnnxModel model =
        parse(FuzzSeeds.withWeight(FuzzSeeds.externalFloats("w\0.data", "0", "16", 4)));

    assertThatThrownBy(() -> model.floatTensor("W"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("external data path 'w\\0.data' is not a valid path");
  }

  @Test
  void subgraphsNestedPastTheRecursionLimitAreRefused() {
    byte[] bytes = FuzzSeeds.nestedSubgraphs(150).toByteArray();

    assertThatThrownBy(() -> OnnxModel.parse(bytes, dir, "nested.onnx"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("nested.onnx: not an ONNX model or truncated");
  }

  @Test
  void matMulWithoutOutputsIsALayerWithoutBias() {
    OnnxModel model = parse(FuzzSeeds.matMulAdd(false));

    assertThat(model.layers())
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.weight()).isEqualTo("fc.weight");
              assertThat(l.bias()).as("no output, so no Add can consume it").isNull();
            });
  }

  private OnnxModel parse(dev.graft.onnx.proto.ModelProto proto) {
    return OnnxModel.parse(proto.toByteArray(), dir, "hostile.onnx");
  }
}

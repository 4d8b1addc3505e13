package dev.graft.onnx.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.Allocations;
import dev.graft.onnx.FuzzSeeds;
import dev.graft.onnx.GraftException;
import org.junit.jupiter.api.Test;

/**
 * Safetensors headers claiming sizes their data does not back: refused with a {@link
 * GraftException} naming the tensor, before anything of the claimed size is allocated.
 */
class SafeTensorsHostileTest {
  private static final long SMALL = 1 << 20;

  @Test
  void headerClaiming2pow40ElementsIsRefusedBeforeAllocation() {
    byte[] file =
        FuzzSeeds.header(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],"
                + "\"data_offsets\":[0,4398046511104]}}",
            4);

    Allocations.Measured m = Allocations.measure(() -> SafeTensors.parse(file, "huge"));

    assertThat(m.thrown())
        .as("a tensor of 2^40 elements over 4 data bytes")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("tensor w: data offsets [0, 4398046511104) do not fit");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void shapeClaimingMoreThanItsOffsetsIsRefusedBeforeAllocation() {
    // 2^24 floats would fit the heap; the offsets cover one
    byte[] file =
        FuzzSeeds.header(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[16777216],\"data_offsets\":[0,4]}}", 4);

    Allocations.Measured m = Allocations.measure(() -> SafeTensors.parse(file, "short"));

    assertThat(m.thrown())
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("do not fit shape [16777216] of F32 in 4 data bytes");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void shapeWhoseProductOverflowsLongIsRefused() {
    byte[] file =
        FuzzSeeds.header(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],"
                + "\"data_offsets\":[0,0]}}",
            0);

    assertThatThrownBy(() -> SafeTensors.parse(file, "overflow"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining(
            "overflow: tensor w: shape [4294967296, 4294967296, 2] has more than 2^63 elements");
  }
}

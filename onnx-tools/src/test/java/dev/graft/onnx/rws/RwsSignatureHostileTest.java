package dev.graft.onnx.rws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.graft.onnx.Allocations;
import dev.graft.onnx.FuzzSeeds;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.proto.LayerDelta;
import dev.graft.onnx.rws.proto.Quantization;
import dev.graft.onnx.rws.proto.RwsFile;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Sealed {@code .rws} files (correct marker, version and content hash) whose deltas claim sizes
 * their bytes do not back: refused with a {@link GraftException} naming the problem, before
 * anything of the claimed size is allocated.
 */
class RwsSignatureHostileTest {
  /** Far more than parsing a few hundred bytes needs, far less than any claimed tensor. */
  private static final long SMALL = 1 << 20;

  @Test
  void shapeClaiming2pow40ElementsIsRefusedBeforeAllocation() {
    byte[] file = FuzzSeeds.sealed(FuzzSeeds.delta(new long[] {1L << 20, 1L << 20}, 256, 8, 0, 1));

    Allocations.Measured m = Allocations.measure(() -> RwsSignature.parse(file, "huge.rws"));

    assertThat(m.thrown())
        .as("a delta of 2^40 elements over no codes")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("huge.rws")
        .hasMessageContaining("1099511627776 elements is too many");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void shapeClaimingMoreElementsThanItsCodesIsRefusedBeforeAllocation() {
    // 2^24 elements would fit the heap (64 MiB of floats): the check must still come first
    byte[] file = FuzzSeeds.sealed(FuzzSeeds.delta(new long[] {1L << 24}, 256, 8, 4, 1));

    Allocations.Measured m = Allocations.measure(() -> RwsSignature.parse(file, "short.rws"));

    assertThat(m.thrown())
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("16777216 codes need 16777216 bytes, file has 4");
    assertThat(m.bytes()).as("heap bytes allocated while refusing it").isLessThan(SMALL);
  }

  @Test
  void shapeWhoseProductOverflowsLongIsRefused() {
    byte[] file =
        FuzzSeeds.sealed(FuzzSeeds.delta(new long[] {1L << 32, 1L << 32, 2}, 256, 8, 0, 1));

    assertThatThrownBy(() -> RwsSignature.parse(file, "overflow.rws"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("invalid shape [4294967296, 4294967296, 2]");
  }

  @Test
  void perChannelAxisOverMoreThan2pow31ChannelsIsRefused() {
    // no elements, so no codes: only the channel count is wrong (it used to wrap to 2 channels)
    RwsFile f = FuzzSeeds.perChannel(1);
    LayerDelta d =
        f.getLayers(0).toBuilder()
            .clearDims()
            .addDims(0)
            .addDims((1L << 32) + 2)
            .clearCodes()
            .build();
    byte[] file = FuzzSeeds.sealed(f.toBuilder().setLayers(0, d).build());

    assertThatThrownBy(() -> RwsSignature.parse(file, "channels.rws"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("4294967298 channels is too many");
  }

  @Test
  void perChannelDecodingStaysLinearWhateverTheRank() {
    // 10^5 one-bit codes under a shape of rank 10^5 (all ones after the first two dimensions):
    // a per-element walk over the trailing dimensions would take about 10^10 steps
    int count = 100_000;
    LayerDelta.Builder d =
        FuzzSeeds.delta(new long[] {2, count / 2}, 2, 1, count / 8, 2).getLayers(0).toBuilder();
    for (int i = 0; i < 100_000; i++) {
      d.addDims(1);
    }
    d.setQuantization(
        d.getQuantization().toBuilder()
            .setGranularity(Quantization.Granularity.PER_CHANNEL)
            .setAxis(0));
    byte[] file = FuzzSeeds.sealed(RwsFile.newBuilder().setName("rank").addLayers(d).build());

    RwsSignature s =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20), () -> RwsSignature.parse(file, "rank.rws"));

    assertThat(s.deltas().get(0).data()).hasSize(count).containsOnly(-1f);
  }
}

package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.TensorProto;

/**
 * {@link PackFormat#NBITS}: {@code com.microsoft.MatMulNBits} with {@code bits=2}, codes {@code
 * k+2} and the default zero point 2, so the operator yields {@code k·h}. (A float zero point of 1.5
 * would give the levels directly, but ONNX Runtime 1.29 then computes {@code q·h − 1.5·h} with two
 * roundings, which moves a third of the weights by one ulp; see {@code ExactnessProbe}.)
 */
final class NbitsWriter implements LayerWriter {
  /** Block sizes MatMulNBits runs for 2 bits. */
  static final int[] BLOCK_SIZES = {16, 32, 64, 128};

  private final int blockSize;
  private final int accuracyLevel;

  /**
   * @param blockSize a power of two from 16 to 128, or 0 to pick per layer the one giving the
   *     smallest file
   * @param accuracyLevel MatMulNBits' {@code accuracy_level}: 0 computes in float32 (exact), 4
   *     quantises activations to int8 (fast, not exact)
   */
  NbitsWriter(int blockSize, int accuracyLevel) {
    if (blockSize != 0 && !validBlockSize(blockSize)) {
      throw GraftException.invalid("block size %d: MatMulNBits takes 16, 32, 64 or 128", blockSize);
    }
    if (accuracyLevel < 0 || accuracyLevel > 4) {
      throw GraftException.invalid("accuracy level %d: MatMulNBits takes 0 to 4", accuracyLevel);
    }
    this.blockSize = blockSize;
    this.accuracyLevel = accuracyLevel;
  }

  static boolean validBlockSize(int b) {
    for (int s : BLOCK_SIZES) {
      if (s == b) {
        return true;
      }
    }
    return false;
  }

  /** The block size with the fewest bytes of codes plus scales; ties go to the larger block. */
  static int smallestBlock(int in) {
    int best = 0;
    long bestBytes = Long.MAX_VALUE;
    for (int b : BLOCK_SIZES) {
      int blocks = TwoBit.blocks(in, b);
      long bytes = (long) blocks * (b / 4 + Float.BYTES) + (blocks > 1 ? Float.BYTES : 0);
      if (bytes <= bestBytes) {
        bestBytes = bytes;
        best = b;
      }
    }
    return best;
  }

  @Override
  public Tensors addWeight(GraphBuilder graph, QuantizedWeight w) {
    int bs = blockSize != 0 ? blockSize : smallestBlock(w.inFeatures());
    int blocks = TwoBit.blocks(w.inFeatures(), bs);
    int rows = w.outFeatures();
    String codes =
        graph.init(
            Protos.raw(
                LayerWriter.codesName(w),
                TensorProto.DataType.UINT8_VALUE,
                new long[] {rows, blocks, bs / 4},
                TwoBit.nbits(w, bs)));
    float[] blockScales = new float[rows * blocks];
    float[] halves = new float[rows];
    for (int r = 0; r < rows; r++) {
      halves[r] = w.half(r);
      java.util.Arrays.fill(blockScales, r * blocks, (r + 1) * blocks, halves[r]);
    }
    String scales =
        graph.init(
            Protos.floats(
                LayerWriter.scalesName(w), new long[] {(long) rows * blocks}, blockScales));
    String half =
        blocks == 1
            ? scales
            : graph.init(
                Protos.floats(w.tensor() + OfqManifest.MARK + "half", new long[] {rows}, halves));
    return new Tensors(codes, scales, half, bs);
  }

  @Override
  public String product(
      GraphBuilder graph, Tensors t, QuantizedWeight w, LinearUse use, String prefix) {
    return graph
        .node("MatMulNBits", "com.microsoft")
        .name(use.nodeName())
        .in(use.input(), t.codes(), t.scales())
        .attr("K", w.inFeatures())
        .attr("N", w.outFeatures())
        .attr("bits", 2)
        .attr("block_size", t.blockSize())
        .attr("accuracy_level", accuracyLevel)
        .out(prefix + "k");
  }

  @Override
  public boolean productIncludesBias() {
    return false;
  }

  @Override
  public long requiredOpset() {
    return 0;
  }
}

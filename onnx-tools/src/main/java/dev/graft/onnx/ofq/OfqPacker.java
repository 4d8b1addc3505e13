package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.Compaction;
import dev.graft.onnx.proto.ModelProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Packs the StatsQ 2-bit weights of a model into real 2-bit storage ({@link PackFormat}). Every
 * packed weight is checked to reproduce the original values exactly, in Java at scan time and, for
 * {@code auto}, on ONNX Runtime itself ({@link ExactnessProbe}).
 */
public final class OfqPacker {
  /**
   * ONNX Runtime session config under which packed models reproduce their weights exactly: the
   * MatMulNBits that ONNX Runtime fuses from {@code DequantizeLinear → MatMul} otherwise quantises
   * activations to int8.
   */
  public static final Map<String, String> EXACT_SESSION_CONFIG =
      Map.of("session.qdq_matmulnbits_accuracy_level", "0");

  private OfqPacker() {}

  /**
   * How to pack.
   *
   * @param format the format, or {@code null} for auto: the first of {@code dq}, {@code nbits} that
   *     ONNX Runtime runs exactly ({@link ExactnessProbe})
   * @param blockSize nbits block size (16, 32, 64, 128), or 0 for the smallest file per layer
   * @param accuracyLevel nbits {@code accuracy_level}: 0 exact (default), 4 int8 activations
   * @param allowRequantize re-quantise rows that are not on StatsQ levels (see {@link OfqScan#of})
   * @param compact store {@code Constant} nodes as initializers and give intermediate values short
   *     names ({@link Compaction}); initializers and node names are kept
   * @param sessionConfig the session config the model will run under, for auto's probe
   */
  public record Options(
      PackFormat format,
      int blockSize,
      int accuracyLevel,
      boolean allowRequantize,
      boolean compact,
      Map<String, String> sessionConfig) {
    public Options {
      sessionConfig = Map.copyOf(sessionConfig);
    }

    /** Exact packing in {@code format} ({@code null}: auto), whole blocks picked per layer. */
    public static Options of(PackFormat format) {
      return new Options(format, 0, 0, false, true, EXACT_SESSION_CONFIG);
    }

    public Options withAllowRequantize(boolean allow) {
      return new Options(format, blockSize, accuracyLevel, allow, compact, sessionConfig);
    }

    public Options withCompact(boolean compactGraph) {
      return new Options(
          format, blockSize, accuracyLevel, allowRequantize, compactGraph, sessionConfig);
    }
  }

  /**
   * A packed model.
   *
   * @param model the packed model, in memory
   * @param format the format written
   * @param scan what was packed and skipped, and why
   * @param notes what auto tried, one line each (empty for an explicit format)
   */
  public record Result(OnnxModel model, PackFormat format, OfqScan scan, List<String> notes) {
    /** Bytes of the serialized packed model. */
    public long bytes() {
      return model.proto().getSerializedSize();
    }
  }

  /**
   * Packs a model.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} when the model has no packable layer, a
   *     weight with rows off the StatsQ levels (without {@code allowRequantize}), a 2-bit weight
   *     where it cannot be packed, or (auto) no format ONNX Runtime runs exactly
   */
  public static Result pack(OnnxModel model, Options options) {
    OnnxModel source = model;
    if (options.compact()) {
      ModelProto compacted = Compaction.compact(model.proto(), OfqManifest.MARK).model();
      source = OnnxModel.of(compacted, model.baseDir(), model.source());
    }
    OfqScan scan = OfqScan.of(source, options.allowRequantize());
    scan.requirePackable();
    if (options.format() != null) {
      return new Result(write(scan, options.format(), options), options.format(), scan, List.of());
    }
    List<String> notes = new ArrayList<>();
    for (PackFormat f : List.of(PackFormat.DQ, PackFormat.NBITS)) {
      OnnxModel packed;
      try {
        packed = write(scan, f, options);
      } catch (GraftException e) {
        notes.add(f.id() + ": not possible: " + e.getMessage());
        continue;
      }
      ExactnessProbe.Result probe =
          ExactnessProbe.check(
              scan.weights(),
              f,
              options.blockSize(),
              options.accuracyLevel(),
              options.sessionConfig());
      if (probe.exact()) {
        notes.add(
            String.format(
                "%s: ONNX Runtime reproduces all %,d probed weights bit for bit",
                f.id(), probe.probed()));
        return new Result(packed, f, scan, notes);
      }
      notes.add(
          String.format(
              "%s: not exact (%,d of %,d probed weights differ; %s)",
              f.id(), probe.mismatches(), probe.probed(), probe.detail()));
    }
    throw GraftException.precondition(
        "%s: no format runs exactly on this ONNX Runtime: %s",
        model.source(), String.join("; ", notes));
  }

  private static OnnxModel write(OfqScan scan, PackFormat format, Options options) {
    ModelProto proto =
        new PackedModelWriter(scan, format, options.blockSize(), options.accuracyLevel()).write();
    OnnxModel m = scan.model();
    return OnnxModel.of(proto, m.baseDir(), m.source() + " (packed " + format.id() + ")");
  }
}

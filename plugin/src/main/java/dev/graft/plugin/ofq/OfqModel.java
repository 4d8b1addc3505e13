package dev.graft.plugin.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.ofq.OfqManifest;
import dev.graft.onnx.ofq.OfqPacker;
import dev.graft.onnx.ofq.PackFormat;
import dev.graft.onnx.ofq.PackedModel;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A served model that {@code graft ofq pack} wrote, and how its 2-bit weights are run.
 *
 * <p>{@code option.ofq.runtime} in {@code serving.properties} chooses: {@code nbits} (default)
 * keeps the weights 2-bit in ONNX Runtime (MatMulNBits, or {@code DequantizeLinear} that ONNX
 * Runtime fuses into it, run at {@code accuracy_level} 0 unless {@code
 * option.session.qdq_matmulnbits_accuracy_level} says otherwise: exact); {@code dequantize} expands
 * them to float32 at load ({@link PackedModel#unpack}), which serves the fake-quant graph bit for
 * bit at float speed and float memory. Immutable.
 *
 * @param packed the packed model as stored
 * @param runtime how its weights are run
 * @param served the model file sessions are built from: the packed file, or its unpacked form
 * @param fileBytes the packed file's size on disk
 */
public record OfqModel(PackedModel packed, Runtime runtime, ModelFile served, long fileBytes) {
  /** The {@code serving.properties} key. */
  public static final String RUNTIME_KEY = "option.ofq.runtime";

  /** The ONNX Runtime session entry that makes fused DequantizeLinear → MatMul exact. */
  static final String ACCURACY_LEVEL = "session.qdq_matmulnbits_accuracy_level";

  /** How the 2-bit weights of a packed model are run. */
  public enum Runtime {
    /** Kept 2-bit in memory. */
    NBITS,
    /** Expanded to float32 at load. */
    DEQUANTIZE;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The packed view of a model file, or empty for a model {@code graft ofq pack} did not write.
   *
   * @param runtimeOption the {@code option.ofq.runtime} value, or {@code null}
   * @throws GraftException {@code INVALID_ARGUMENT} for an unknown runtime, {@code
   *     FAILED_PRECONDITION} when the option is set on a model that is not packed
   */
  public static Optional<OfqModel> of(ModelFile file, String runtimeOption) {
    Optional<PackedModel> packed = PackedModel.of(file.model());
    if (packed.isEmpty()) {
      if (runtimeOption != null) {
        throw GraftException.precondition(
            "%s=%s is set, but %s was not packed by graft ofq pack",
            RUNTIME_KEY, runtimeOption, file.path().getFileName());
      }
      return Optional.empty();
    }
    Runtime runtime = parse(runtimeOption);
    ModelFile served = file;
    if (runtime == Runtime.DEQUANTIZE) {
      OnnxModel unpacked = packed.get().unpack();
      byte[] bytes = unpacked.toByteArray();
      served =
          new ModelFile(
              file.path(),
              bytes,
              OnnxModel.parse(ByteBuffer.wrap(bytes), file.model().baseDir(), unpacked.source()));
    }
    return Optional.of(new OfqModel(packed.get(), runtime, served, file.bytes().length));
  }

  /**
   * The settings to serve with: a {@code dq} model kept 2-bit gets {@value #ACCURACY_LEVEL}=0
   * (exact) unless {@code serving.properties} set it.
   */
  public ModelSettings settings(ModelSettings settings) {
    if (runtime != Runtime.NBITS
        || packed.format() != PackFormat.DQ
        || settings.sessionConfig().containsKey(ACCURACY_LEVEL)) {
      return settings;
    }
    Map<String, String> config = new LinkedHashMap<>(settings.sessionConfig());
    config.putAll(OfqPacker.EXACT_SESSION_CONFIG);
    return settings.withSessionConfig(config);
  }

  /** Bytes the packed layers' weights take in memory under this runtime. */
  public long weightBytesInMemory() {
    return runtime == Runtime.NBITS ? packed.packedBytes() : packed.floatBytes();
  }

  /** The {@code ofq} object of {@code GET /models/{m}}. */
  public Map<String, Object> view() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("format", packed.format().id());
    v.put("runtime", runtime.id());
    v.put("fileBytes", fileBytes);
    v.put("weightBytesOnDisk", packed.packedBytes());
    v.put("weightBytesInMemory", weightBytesInMemory());
    v.put("floatWeightBytes", packed.floatBytes());
    List<Map<String, Object>> layers = new ArrayList<>();
    for (OfqManifest.Weight w : packed.manifest().weights()) {
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("layer", w.layer());
      l.put("tensor", w.tensor());
      l.put("shape", List.of(w.out(), w.in()));
      if (w.blockSize() > 0) {
        l.put("blockSize", w.blockSize());
      }
      l.put("requantizedRows", w.requantizedRows());
      layers.add(l);
    }
    v.put("layers", layers);
    return v;
  }

  private static Runtime parse(String option) {
    if (option == null || option.isBlank()) {
      return Runtime.NBITS;
    }
    return switch (option.strip().toLowerCase(Locale.ROOT)) {
      case "nbits" -> Runtime.NBITS;
      case "dequantize" -> Runtime.DEQUANTIZE;
      default ->
          throw GraftException.invalid(
              "%s must be nbits or dequantize, got '%s'", RUNTIME_KEY, option);
    };
  }
}

package dev.graft.onnx.rws;

import com.google.protobuf.ByteString;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.Version;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.rws.proto.LayerDelta;
import dev.graft.onnx.rws.proto.Provenance;
import dev.graft.onnx.rws.proto.Quantization;
import dev.graft.onnx.rws.proto.RwsFile;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Extracts robust weight signatures (RWS, ICML 2023) from a clean and a robust model fine-tuned
 * from one pretrained model: per tensor, {@code Δc = θ_robust − θ_pre}, {@code Δstd = θ_clean −
 * θ_pre}, {@code RWS = Δc − (⟨Δc,Δstd⟩/⟨Δstd,Δstd⟩)·Δstd}; without the pretrained model, {@code RWS
 * = θ_robust − θ_clean}. Only the first K weight layers (weight and bias) are kept, then quantised
 * linearly.
 */
public final class RwsExtractor {
  /** Default share of the total relative weight change the automatic prefix must hold. */
  public static final double DEFAULT_AUTO_SHARE = 0.30;

  private RwsExtractor() {}

  /**
   * What to extract.
   *
   * @param keep the first K layers, or {@code null}
   * @param layers explicit layer names, or empty
   * @param autoShare share of the total relative change the automatic prefix must hold (when
   *     neither keep nor layers is given)
   */
  public record Options(
      String name,
      String corruption,
      Integer keep,
      List<String> layers,
      int levels,
      boolean perChannel,
      double autoShare) {
    public Options {
      layers = layers == null ? List.of() : List.copyOf(layers);
      if (name == null || name.isBlank()) {
        throw GraftException.invalid("a signature needs a name");
      }
      if (levels < 2) {
        throw GraftException.invalid("levels must be at least 2, got %d", levels);
      }
      if (levels > (1 << 16)) {
        throw GraftException.invalid("levels must be at most 65536, got %d", levels);
      }
      if (keep != null && !layers.isEmpty()) {
        throw GraftException.invalid("give either keep or layers, not both");
      }
      if (keep != null && keep < 1) {
        throw GraftException.invalid("keep must be at least 1, got %d", keep);
      }
      if (!(autoShare > 0 && autoShare <= 1)) {
        throw GraftException.invalid("the automatic share must be in (0, 1], got %s", autoShare);
      }
    }
  }

  /**
   * The relative weight change of one layer, {@code ‖θ_robust − θ_clean‖ / ‖θ_clean‖} over its
   * weight.
   */
  public record LayerChange(String layer, double relativeChange) {}

  /** The signature plus how its layers were chosen. */
  public record Result(
      RwsSignature signature,
      List<WeightLayer> kept,
      String selection,
      List<LayerChange> changes) {}

  public static Result extract(OnnxModel clean, OnnxModel robust, OnnxModel pretrained, Options o) {
    return extract(
        ModelWeights.of(clean),
        ModelWeights.of(robust),
        pretrained == null ? null : ModelWeights.of(pretrained),
        o);
  }

  /**
   * Extracts a signature from models of any format (ONNX, TorchScript, or a mix of both when the
   * tensor names and shapes agree).
   *
   * @param pretrained the common starting point, or {@code null} for a plain difference
   */
  public static Result extract(
      ModelWeights clean, ModelWeights robust, ModelWeights pretrained, Options o) {
    Fingerprint cleanPrint = clean.fingerprint();
    cleanPrint.requireSameArchitecture(
        robust.fingerprint(), clean.source() + " vs " + robust.source());
    if (pretrained != null) {
      cleanPrint.requireSameArchitecture(
          pretrained.fingerprint(), clean.source() + " vs " + pretrained.source());
    }
    List<WeightLayer> all = clean.layers();
    if (all.isEmpty()) {
      throw GraftException.invalid(
          "%s: no weight layers (Conv, Gemm, MatMul) found", clean.source());
    }
    List<LayerChange> changes = new ArrayList<>();
    for (WeightLayer l : all) {
      changes.add(
          new LayerChange(
              l.name(), relativeChange(finite(clean, l.weight()), finite(robust, l.weight()))));
    }
    List<WeightLayer> kept;
    String selection;
    if (!o.layers().isEmpty()) {
      kept = byName(all, o.layers(), clean.source());
      selection = "layers";
    } else if (o.keep() != null) {
      if (o.keep() > all.size()) {
        throw GraftException.invalid(
            "keep %d is larger than the %d weight layers of %s",
            o.keep(), all.size(), clean.source());
      }
      kept = all.subList(0, o.keep());
      selection = "keep";
    } else {
      kept = all.subList(0, autoKeep(changes, o.autoShare()));
      selection = String.format("auto(share=%.2f)", o.autoShare());
    }

    int bits = LinearQuantizer.bitsFor(o.levels());
    RwsFile.Builder file =
        RwsFile.newBuilder()
            .setMagic(RwsSignature.MAGIC)
            .setFormatVersion(RwsSignature.FORMAT_VERSION)
            .setName(o.name())
            .setCorruption(o.corruption() == null ? "" : o.corruption())
            .setFingerprint(RwsProtos.proto(cleanPrint));
    for (WeightLayer layer : kept) {
      for (String tensor : layer.tensorNames()) {
        float[] exact = signature(clean, robust, pretrained, tensor);
        FloatTensor c = clean.floatTensor(tensor);
        int axis = o.perChannel() && c.dims().length >= 2 ? clean.outputAxis(layer) : -1;
        file.addLayers(quantise(layer.name(), c.name(), c.dims(), exact, o.levels(), bits, axis));
      }
    }
    file.setProvenance(
        Provenance.newBuilder()
            .setTool("graft rws extract")
            .setToolVersion(Version.VERSION)
            .setCleanSha256(cleanPrint.weightsSha256())
            .setRobustSha256(robust.fingerprint().weightsSha256())
            .setPretrainedSha256(pretrained == null ? "" : pretrained.fingerprint().weightsSha256())
            .setKeep(kept.size())
            .setLevels(o.levels())
            .setPerChannel(o.perChannel())
            .setSelection(selection)
            .setCreated(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()));
    return new Result(RwsSignature.of(file.build()), List.copyOf(kept), selection, changes);
  }

  /** The shortest prefix whose relative changes sum to at least {@code share} of the total. */
  static int autoKeep(List<LayerChange> changes, double share) {
    double total = changes.stream().mapToDouble(LayerChange::relativeChange).sum();
    double acc = 0;
    for (int i = 0; i < changes.size(); i++) {
      acc += changes.get(i).relativeChange();
      if (acc >= share * total - 1e-12) {
        return i + 1;
      }
    }
    return changes.size();
  }

  private static List<WeightLayer> byName(
      List<WeightLayer> all, List<String> names, String source) {
    Set<String> wanted = new LinkedHashSet<>(names);
    List<WeightLayer> out = new ArrayList<>();
    for (WeightLayer l : all) {
      if (wanted.remove(l.name())) {
        out.add(l);
      }
    }
    if (!wanted.isEmpty()) {
      throw GraftException.invalid(
          "%s: unknown layer(s) %s; the layers are %s",
          source, wanted, all.stream().map(WeightLayer::name).toList());
    }
    return out;
  }

  private static float[] signature(
      ModelWeights clean, ModelWeights robust, ModelWeights pretrained, String tensor) {
    float[] c = finite(clean, tensor);
    float[] r = finite(robust, tensor);
    float[] out = new float[c.length];
    if (pretrained == null) {
      for (int i = 0; i < c.length; i++) {
        out[i] = (float) ((double) r[i] - c[i]);
      }
      return out;
    }
    float[] p = finite(pretrained, tensor);
    double dot = 0;
    double norm = 0;
    for (int i = 0; i < c.length; i++) {
      double dc = (double) r[i] - p[i];
      double ds = (double) c[i] - p[i];
      dot += dc * ds;
      norm += ds * ds;
    }
    double k = norm == 0 ? 0 : dot / norm;
    for (int i = 0; i < c.length; i++) {
      double dc = (double) r[i] - p[i];
      double ds = (double) c[i] - p[i];
      out[i] = (float) (dc - k * ds);
    }
    return out;
  }

  private static float[] finite(ModelWeights model, String tensor) {
    float[] v = model.floatTensor(tensor).data();
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw GraftException.invalid(
            "%s: tensor %s holds a non-finite value (%s at index %d)",
            model.source(), tensor, v[i], i);
      }
    }
    return v;
  }

  private static double relativeChange(float[] clean, float[] robust) {
    double diff = 0;
    double base = 0;
    for (int i = 0; i < clean.length; i++) {
      double d = (double) robust[i] - clean[i];
      diff += d * d;
      base += (double) clean[i] * clean[i];
    }
    return base == 0 ? 0 : Math.sqrt(diff / base);
  }

  static LayerDelta quantise(
      String layer, String tensor, long[] dims, float[] exact, int levels, int bits, int axis) {
    int channels = axis < 0 ? 1 : (int) dims[axis];
    RwsSignature.ChannelLayout layout = RwsSignature.ChannelLayout.of(dims, axis);
    float[] min = new float[channels];
    float[] max = new float[channels];
    java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
    java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < exact.length; i++) {
      int c = layout.channelOf(i);
      min[c] = Math.min(min[c], exact[i]);
      max[c] = Math.max(max[c], exact[i]);
    }
    int[] codes = new int[exact.length];
    Quantization.Builder q =
        Quantization.newBuilder()
            .setLevels(levels)
            .setBits(bits)
            .setGranularity(
                axis < 0
                    ? Quantization.Granularity.PER_TENSOR
                    : Quantization.Granularity.PER_CHANNEL)
            .setAxis(Math.max(axis, 0));
    for (int c = 0; c < channels; c++) {
      q.addMin(min[c]).addMax(max[c]);
    }
    double err = 0;
    double norm = 0;
    for (int i = 0; i < exact.length; i++) {
      int c = layout.channelOf(i);
      LinearQuantizer.encode(exact, i, 1, min[c], max[c], levels, codes);
      double back = LinearQuantizer.decode(codes[i], min[c], max[c], levels);
      err += (back - exact[i]) * (back - exact[i]);
      norm += (double) exact[i] * exact[i];
    }
    LayerDelta.Builder d =
        LayerDelta.newBuilder()
            .setTensor(tensor)
            .setLayer(layer)
            .setQuantization(q)
            .setCodes(ByteString.copyFrom(LinearQuantizer.pack(codes, bits)))
            .setReconstructionError(norm == 0 ? 0 : Math.sqrt(err / norm));
    for (long dim : dims) {
      d.addDims(dim);
    }
    return d.build();
  }
}

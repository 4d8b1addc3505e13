package dev.graft.plugin.runtime;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.split.GraphCut;
import dev.graft.plugin.config.ModelSettings;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How a model's weight states are laid out, from its {@code serving.properties}:
 *
 * <ul>
 *   <li>{@code option.graft.split} = {@code auto} (default): split when building a stem is measured
 *       at load to take at most {@code ratio} of the time of a whole session; {@code on}: always
 *       split; {@code off}: whole sessions only.
 *   <li>{@code option.graft.split.cut} = tensor names (comma-separated), or {@code
 *       option.graft.split.after} = a weight layer: where to cut. Without either, the cut follows
 *       the first {@code option.graft.split.layers} weight layers (default 4, the depth RWS
 *       signatures keep by default); a patch that reaches deeper moves the cut once.
 *   <li>{@code option.graft.split.ratio} (default 0.5): the largest stem-to-whole build time ratio
 *       at which {@code auto} splits.
 *   <li>{@code option.graft.split.prepack} (default true): whether the body and stem sessions
 *       pre-pack their weights as whole sessions do. {@code false} makes them read the base weights
 *       from the shared mapping without private copies (a variant then costs little more than its
 *       replaced tensors), but ONNX Runtime's unpacked MatMul rounds differently: outputs then
 *       match the whole model within float rounding (1e-5), not bit for bit.
 *   <li>{@code option.graft.split.compact} (default false): whether a patched weight state stores
 *       its replaced tensors as one byte per weight over the base ({@link DeltaCodec}) and runs on
 *       one stem session shared by every such state, instead of a stem session of its own with
 *       float32 copies. For the memory of many per-request variants (measured on the DeiT-S ViT:
 *       about 1.5 MiB per variant instead of about 16); the patched weights are then exact, but
 *       their MatMul and Conv run unpacked, so outputs match the whole patched model within float
 *       rounding (1e-5), not bit for bit. Weights that need more than 256 distinct deltas per
 *       tensor (several signatures at once, or weights that are not a patch of the base) get an
 *       exact stem of their own.
 * </ul>
 *
 * @param mode auto, on or off
 * @param cut the configured cut, if any
 * @param after the configured layer to cut after, if any
 * @param layers how many leading weight layers the default cut keeps in the stem
 * @param ratio the largest stem-to-whole build time ratio at which {@code auto} splits
 * @param prepack whether split sessions pre-pack their weights (exact) or read them mapped
 * @param compact whether patched states are stored as byte deltas on a shared stem session
 */
public record SplitOptions(
    Mode mode,
    Optional<GraphCut> cut,
    Optional<String> after,
    int layers,
    double ratio,
    boolean prepack,
    boolean compact) {

  /** Whether to split. */
  public enum Mode {
    AUTO,
    ON,
    OFF
  }

  static final String PREFIX = "graft.split";

  /** Reads the {@code option.graft.split*} keys of a model. */
  public static SplitOptions of(ModelSettings settings) {
    Map<String, String> raw = settings.sessionConfig();
    String modeText = raw.getOrDefault(PREFIX, "auto").strip().toUpperCase(Locale.ROOT);
    Mode mode;
    try {
      mode = Mode.valueOf(modeText);
    } catch (IllegalArgumentException e) {
      throw GraftException.invalid(
          "option.%s must be auto, on or off, got '%s'", PREFIX, raw.get(PREFIX));
    }
    Optional<GraphCut> cut =
        Optional.ofNullable(raw.get(PREFIX + ".cut"))
            .filter(s -> !s.isBlank())
            .map(GraphCut::parse);
    Optional<String> after =
        Optional.ofNullable(raw.get(PREFIX + ".after"))
            .map(String::strip)
            .filter(s -> !s.isEmpty());
    if (cut.isPresent() && after.isPresent()) {
      throw GraftException.invalid(
          "give option.%s.cut or option.%s.after, not both", PREFIX, PREFIX);
    }
    int layers = (int) number(raw, PREFIX + ".layers", 4, 1, 1 << 16);
    double ratio = number(raw, PREFIX + ".ratio", 0.5, 0, 1);
    boolean prepack = bool(raw, PREFIX + ".prepack", true);
    boolean compact = bool(raw, PREFIX + ".compact", false);
    return new SplitOptions(mode, cut, after, layers, ratio, prepack, compact);
  }

  /** The options when a model says nothing: auto, default cut. */
  public static SplitOptions defaults() {
    return new SplitOptions(Mode.AUTO, Optional.empty(), Optional.empty(), 4, 0.5, true, false);
  }

  private static boolean bool(Map<String, String> raw, String key, boolean fallback) {
    String text =
        raw.getOrDefault(key, Boolean.toString(fallback)).strip().toLowerCase(Locale.ROOT);
    if (!text.equals("true") && !text.equals("false")) {
      throw GraftException.invalid("option.%s must be true or false, got '%s'", key, text);
    }
    return text.equals("true");
  }

  private static double number(
      Map<String, String> raw, String key, double fallback, double min, double max) {
    String text = raw.get(key);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      double v = Double.parseDouble(text.strip());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw GraftException.invalid(
        "option.%s must be a number in [%s, %s], got '%s'", key, min, max, text);
  }
}

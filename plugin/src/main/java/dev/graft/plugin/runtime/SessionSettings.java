package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.plugin.config.ModelSettings;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How every session of one model is configured. All sessions of a model (base and patched) use the
 * same settings, so detaching every adapter gives bit for bit the base session's outputs.
 *
 * <p>At {@code LAYOUT_OPT} and {@code ALL_OPT}, ONNX Runtime's {@code NchwcTransformer} copies Conv
 * weights into a blocked layout before {@code addInitializer} overrides apply, so a patched Conv
 * would silently keep its old weights. That transformer is therefore always disabled at those
 * levels (measured: patched outputs then equal the offline-patched model's exactly); {@link
 * #note()} says so to clients.
 *
 * @param requestedLevel the {@code option.optLevel} of the model
 * @param level the ONNX Runtime level used
 * @param executionMode {@code SEQUENTIAL} or {@code PARALLEL}
 * @param intraOpThreads 0 for ONNX Runtime's default
 * @param interOpThreads 0 for ONNX Runtime's default
 * @param configEntries session config entries, including the optimizers disabled by Graft
 * @param note why the effective optimisation differs from the requested one; empty if it does not
 */
public record SessionSettings(
    String requestedLevel,
    OrtSession.SessionOptions.OptLevel level,
    OrtSession.SessionOptions.ExecutionMode executionMode,
    int intraOpThreads,
    int interOpThreads,
    Map<String, String> configEntries,
    String note) {

  /** ONNX Runtime session config key listing optimizers to skip, separated by ';'. */
  static final String DISABLED_OPTIMIZERS = "optimization.disable_specified_optimizers";

  static final String NCHWC = "NchwcTransformer";

  public SessionSettings {
    configEntries = Map.copyOf(configEntries);
  }

  /** Derives the session settings of a model from its {@code serving.properties}. */
  public static SessionSettings of(ModelSettings model) {
    OrtSession.SessionOptions.OptLevel level =
        OrtSession.SessionOptions.OptLevel.valueOf(model.optLevel());
    Map<String, String> entries = new LinkedHashMap<>(model.sessionConfig());
    // option.graft.* keys configure Graft (e.g. SplitOptions), not ONNX Runtime
    entries.keySet().removeIf(k -> k.startsWith("graft."));
    String note = "";
    if (level == OrtSession.SessionOptions.OptLevel.LAYOUT_OPT
        || level == OrtSession.SessionOptions.OptLevel.ALL_OPT) {
      String disabled = entries.getOrDefault(DISABLED_OPTIMIZERS, "");
      if (!(";" + disabled + ";").contains(";" + NCHWC + ";")) {
        entries.put(DISABLED_OPTIMIZERS, disabled.isEmpty() ? NCHWC : disabled + ";" + NCHWC);
      }
      note =
          model.optLevel()
              + " runs without NchwcTransformer: its blocked Conv layout would ignore patched"
              + " Conv weights";
    }
    return new SessionSettings(
        model.optLevel(),
        level,
        OrtSession.SessionOptions.ExecutionMode.valueOf(model.executionMode()),
        model.intraOpThreads(),
        model.interOpThreads(),
        entries,
        note);
  }

  /** New options for one session; the caller owns and closes them. */
  OrtSession.SessionOptions newOptions() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(level);
      options.setExecutionMode(executionMode);
      if (intraOpThreads > 0) {
        options.setIntraOpNumThreads(intraOpThreads);
      }
      if (interOpThreads > 0) {
        options.setInterOpNumThreads(interOpThreads);
      }
      for (Map.Entry<String, String> e : configEntries.entrySet()) {
        options.addConfigEntry(e.getKey(), e.getValue());
      }
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /** The effective optimisation, e.g. {@code ALL_OPT without NchwcTransformer}. */
  public String effectiveLevel() {
    String disabled = configEntries.get(DISABLED_OPTIMIZERS);
    return disabled == null || disabled.isEmpty()
        ? level.name()
        : level.name() + " without " + disabled.replace(";", ", ");
  }
}

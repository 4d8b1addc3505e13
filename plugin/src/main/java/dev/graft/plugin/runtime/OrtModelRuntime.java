package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A model served by ONNX Runtime, whose weights are swapped by building a new session.
 *
 * <p>The current {@link WeightState} is held in an atomic reference. An inference acquires it, runs
 * and releases it; {@link #swapWeights} builds a complete new session off to the side (the same
 * model bytes, each replaced tensor passed with {@code SessionOptions.addInitializer}), then swaps
 * the reference and releases the old state, which closes when its last inference ends. Inference
 * never waits for a swap. Override names are validated here because ONNX Runtime accepts unknown
 * names silently.
 *
 * <p>Thread safe; swaps must be serialised by the caller. Owns every session and tensor it creates;
 * {@link #close} releases them (after in-flight inferences).
 */
public final class OrtModelRuntime implements ModelRuntime {
  private final String name;
  private final OrtEnvironment env;
  private final ModelFile file;
  private final SessionSettings settings;
  private final boolean externalData;
  private final ModelInterface contract;
  private final AtomicReference<WeightState> current = new AtomicReference<>();

  private OrtModelRuntime(String name, ModelFile file, ModelSettings modelSettings) {
    this.name = name;
    this.env = OrtEnvironment.getEnvironment();
    this.file = file;
    this.settings = SessionSettings.of(modelSettings);
    this.externalData = file.hasExternalData();
    WeightState base = build(Weights.base(), true);
    try {
      this.contract =
          new ModelInterface(
              name,
              file.model(),
              ModelInterface.specs(base.session().getInputInfo()),
              ModelInterface.specs(base.session().getOutputInfo()));
    } catch (OrtException | RuntimeException e) {
      base.release();
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": cannot read the model's inputs and outputs: " + e.getMessage(),
          e);
    }
    current.set(base);
  }

  /**
   * Builds the base session of a model.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when ONNX Runtime cannot load the model
   */
  public static OrtModelRuntime open(String name, ModelFile file, ModelSettings settings) {
    return new OrtModelRuntime(name, file, settings);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<TensorSpec> inputs() {
    return contract.inputs();
  }

  @Override
  public List<TensorSpec> outputs() {
    return contract.outputs();
  }

  /** The optimisation actually used and why it differs from the requested one, for clients. */
  public SessionSettings sessionSettings() {
    return settings;
  }

  @Override
  public Map<String, Object> describe() {
    return describe(settings);
  }

  /** The optimisation fields of {@code GET /models/{m}} for any ONNX runtime. */
  static Map<String, Object> describe(SessionSettings settings) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("optLevel", settings.requestedLevel());
    v.put("optimization", settings.effectiveLevel());
    if (!settings.note().isEmpty()) {
      v.put("optimizationNote", settings.note());
    }
    return v;
  }

  @Override
  public String weightsLabel() {
    WeightState s = current.get();
    return s == null ? "closed" : s.label();
  }

  @Override
  public InferenceResult infer(Map<String, FloatTensor> feeds, Set<String> wanted) {
    Set<String> outputNames = contract.outputNames(wanted);
    contract.checkInputs(feeds);
    WeightState state = acquire();
    try {
      return run(state, feeds, outputNames);
    } finally {
      state.release();
    }
  }

  @Override
  public void swapWeights(Weights weights) {
    WeightState next = build(weights, false);
    WeightState previous = current.get();
    if (previous == null || !current.compareAndSet(previous, next)) {
      next.release();
      throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
    }
    previous.release();
  }

  @Override
  public void close() {
    WeightState s = current.getAndSet(null);
    if (s != null) {
      s.release();
    }
  }

  /** Takes a reference on the current state; the caller must release it. */
  WeightState acquire() {
    while (true) {
      WeightState s = current.get();
      if (s == null) {
        throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
      }
      if (s.tryAcquire()) {
        return s;
      }
      // s was retired and closed between the read and the acquire: read the new current one
    }
  }

  /** The state new inferences would acquire (tests). */
  WeightState currentState() {
    return current.get();
  }

  private InferenceResult run(WeightState state, Map<String, FloatTensor> feeds, Set<String> out) {
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      for (TensorSpec spec : contract.inputs()) {
        FloatTensor t = feeds.get(spec.name());
        tensors.put(
            spec.name(), OnnxTensor.createTensor(env, FloatBuffer.wrap(t.data()), t.dims()));
      }
      try (OrtSession.Result result = state.session().run(tensors, out)) {
        List<FloatTensor> values = new ArrayList<>(out.size());
        for (Map.Entry<String, OnnxValue> e : result) {
          values.add(contract.toFloatTensor(e.getKey(), e.getValue()));
        }
        return new InferenceResult(state.label(), values);
      }
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": ONNX Runtime rejected the input: " + e.getMessage(),
          e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  /** Builds a session for {@code weights}; on failure nothing stays open. */
  private WeightState build(Weights weights, boolean base) {
    if (!base) {
      contract.validate(weights); // the base has no overrides, and no contract yet
    }
    List<OnnxTensor> owned = new ArrayList<>();
    try (OrtSession.SessionOptions options = settings.newOptions()) {
      for (FloatTensor t : weights.overrides()) {
        OnnxTensor tensor = ModelInterface.directTensor(env, t);
        owned.add(tensor);
        options.addInitializer(t.name(), tensor);
      }
      OrtSession session =
          externalData
              ? env.createSession(file.path().toString(), options)
              : env.createSession(file.bytes(), options);
      return new WeightState(weights.label(), session, owned);
    } catch (OrtException | RuntimeException e) {
      owned.forEach(OnnxTensor::close);
      if (e instanceof GraftException g) {
        throw g;
      }
      throw new GraftException(
          base ? GraftException.Code.INVALID_ARGUMENT : GraftException.Code.INTERNAL,
          name
              + ": ONNX Runtime cannot build a session"
              + (base ? "" : " for " + weights.label())
              + ": "
              + e.getMessage(),
          e);
    }
  }
}

package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.plugin.config.ModelSettings;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>Per-request weights ({@link #openVariant}) are further states built the same way but never
 * made current; {@link #run} uses one when given. The runtime tracks the variants it opened and
 * closes those still open when it closes.
 *
 * <p>Thread safe; swaps must be serialised by the caller. Owns every session and tensor it creates;
 * {@link #close} releases them (after in-flight inferences).
 */
public final class OrtModelRuntime implements ModelRuntime {
  private final String name;
  private final OrtEnvironment env;
  private final ModelFile file;
  private final SessionSettings settings;
  private final Map<String, TensorProto> initializers;
  private final boolean externalData;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final ModelInterface iface;
  private final AtomicReference<WeightState> current = new AtomicReference<>();
  private final Set<OrtVariant> variants = ConcurrentHashMap.newKeySet();
  private final long initializerBytes;

  private OrtModelRuntime(String name, ModelFile file, ModelSettings modelSettings) {
    this.name = name;
    this.env = OrtEnvironment.getEnvironment();
    this.file = file;
    this.settings = SessionSettings.of(modelSettings);
    Map<String, TensorProto> inits = new LinkedHashMap<>();
    for (TensorProto t : file.model().proto().getGraph().getInitializerList()) {
      inits.put(t.getName(), t);
    }
    this.initializers = inits;
    this.externalData = file.hasExternalData();
    this.initializerBytes = inits.values().stream().mapToLong(OrtModelRuntime::byteSize).sum();
    WeightState base = build(Weights.base(), true);
    try {
      this.inputs = ModelInterface.specs(base.session().getInputInfo());
      this.outputs = ModelInterface.specs(base.session().getOutputInfo());
    } catch (OrtException | RuntimeException e) {
      base.release();
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": cannot read the model's inputs and outputs: " + e.getMessage(),
          e);
    }
    this.iface = new ModelInterface(name, file.model(), inputs, outputs);
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
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs() {
    return outputs;
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
    Map<String, Object> v = new java.util.LinkedHashMap<>();
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
    Set<String> outputNames = iface.outputNames(wanted);
    iface.checkInputs(feeds);
    WeightState state = acquire();
    try {
      return run(state, feeds, outputNames);
    } finally {
      state.release();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Checks every input against the graph (name, data type, shape) before touching ONNX Runtime.
   */
  @Override
  public TensorResult run(List<Tensor> feeds, Set<String> wanted, WeightVariant variant) {
    Set<String> outputNames = iface.outputNames(wanted);
    iface.checkTensors(feeds);
    WeightState state;
    if (variant == null) {
      state = acquire();
    } else if (variant instanceof OrtVariant v && v.owner() == this) {
      if (!v.tryAcquire()) {
        throw new GraftException(
            GraftException.Code.UNAVAILABLE, name + ": weights " + v.label() + " were closed");
      }
      state = v.state;
    } else {
      throw GraftException.precondition("%s: weights %s are not this model's", name, variant);
    }
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      for (Tensor t : feeds) {
        tensors.put(t.name(), OrtTensors.create(env, t));
      }
      try (OrtSession.Result result = state.session().run(tensors, outputNames)) {
        List<Tensor> values = new ArrayList<>(outputNames.size());
        for (Map.Entry<String, OnnxValue> e : result) {
          values.add(OrtTensors.read(e.getKey(), e.getValue()));
        }
        return new TensorResult(state.label(), values);
      }
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": ONNX Runtime rejected the input: " + e.getMessage(),
          e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
      state.release();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>The session is built exactly as {@link #swapWeights} builds one, so a variant computes what
   * the same weights would compute once made current.
   */
  @Override
  public WeightVariant openVariant(Weights weights) {
    OrtVariant variant = new OrtVariant(build(weights, false));
    variants.add(variant);
    if (current.get() == null) { // closed meanwhile: close() may have missed this one
      variant.close();
      throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
    }
    return variant;
  }

  /** {@inheritDoc} Not tracked as an open variant: the caller closes it when its request ends. */
  @Override
  public WeightVariant acquireCurrent() {
    return new OrtVariant(acquire());
  }

  /**
   * The model bytes held on the heap, plus, for the current state and every open variant, the copy
   * of the initializers its session holds and its override tensors. Retired states still finishing
   * requests are not counted.
   */
  @Override
  public long weightBytes() {
    WeightState s = current.get();
    long bytes = file.bytes().length;
    if (s != null) {
      bytes += initializerBytes + s.overrideBytes();
    }
    for (OrtVariant v : variants) {
      bytes += initializerBytes + v.state.overrideBytes();
    }
    return bytes;
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
    for (OrtVariant v : variants) {
      v.close();
    }
  }

  /** Variants opened and not yet closed (tests). */
  int openVariants() {
    return variants.size();
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
      for (TensorSpec spec : inputs) {
        FloatTensor t = feeds.get(spec.name());
        tensors.put(
            spec.name(), OnnxTensor.createTensor(env, FloatBuffer.wrap(t.data()), t.dims()));
      }
      try (OrtSession.Result result = state.session().run(tensors, out)) {
        List<FloatTensor> values = new ArrayList<>(out.size());
        for (Map.Entry<String, OnnxValue> e : result) {
          values.add(iface.toFloatTensor(e.getKey(), e.getValue()));
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

  /** Bytes of an initializer's elements (4 per element for types not listed). */
  private static long byteSize(TensorProto t) {
    long count = 1;
    for (long d : t.getDimsList()) {
      count *= d;
    }
    int size =
        switch (t.getDataType()) {
          case TensorProto.DataType.DOUBLE_VALUE,
              TensorProto.DataType.INT64_VALUE,
              TensorProto.DataType.UINT64_VALUE ->
              8;
          case TensorProto.DataType.FLOAT16_VALUE,
              TensorProto.DataType.BFLOAT16_VALUE,
              TensorProto.DataType.INT16_VALUE,
              TensorProto.DataType.UINT16_VALUE ->
              2;
          case TensorProto.DataType.INT8_VALUE,
              TensorProto.DataType.UINT8_VALUE,
              TensorProto.DataType.BOOL_VALUE ->
              1;
          default -> 4;
        };
    return count * size;
  }

  /** A weight state opened for per-request use; closing drops the opener's reference once. */
  private final class OrtVariant implements WeightVariant {
    private final WeightState state;
    private final AtomicBoolean closed = new AtomicBoolean();

    OrtVariant(WeightState state) {
      this.state = state;
    }

    OrtModelRuntime owner() {
      return OrtModelRuntime.this;
    }

    @Override
    public String label() {
      return state.label();
    }

    @Override
    public boolean tryAcquire() {
      return state.tryAcquire();
    }

    @Override
    public void release() {
      state.release();
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        variants.remove(this);
        state.release();
      }
    }

    @Override
    public String toString() {
      return "weights " + state.label() + " of " + name;
    }
  }

  /** Builds a session for {@code weights}; on failure nothing stays open. */
  private WeightState build(Weights weights, boolean base) {
    if (!weights.overrides().isEmpty()) {
      iface.validate(weights); // the base (no overrides) is built before iface exists
    }
    List<OnnxTensor> owned = new ArrayList<>();
    try (OrtSession.SessionOptions options = settings.newOptions()) {
      for (FloatTensor t : weights.overrides()) {
        OnnxTensor tensor = ModelInterface.directTensor(env, t);
        owned.add(tensor);
        options.addInitializer(t.name(), tensor);
      }
      OrtSession session =
          SessionRetry.create(
              () ->
                  externalData
                      ? env.createSession(file.path().toString(), options)
                      : env.createSession(file.bytes(), options));
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

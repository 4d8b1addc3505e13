package dev.graft.plugin.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.ValueInfoProto;
import dev.graft.onnx.split.CutFinder;
import dev.graft.onnx.split.GraphCut;
import dev.graft.onnx.split.ModelSplit;
import dev.graft.onnx.split.ModelSplitter;
import dev.graft.plugin.config.ModelSettings;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A model served by ONNX Runtime whose weight states share what a patch does not change.
 *
 * <p>When split, the model is cut after its shallow, patchable layers ({@link SplitOptions}): one
 * body session computes everything after the cut, and each weight state is a small stem session,
 * built for that state's weights, whose outputs feed the shared body as native tensors. A patch
 * then rebuilds a stem, not the model. Not split, each weight state is a whole-model session. In
 * both layouts the big base weights are memory-mapped from external data files and handed to ONNX
 * Runtime without copies, so sessions of one model share them. {@code auto} measures at load
 * whether building a stem is cheaper than building the whole model by enough to pay for the second
 * session run per inference, and reports the choice ({@link #layout()}).
 *
 * <p>With {@code option.graft.split.compact=true}, a patched state whose replaced tensors encode as
 * byte deltas over the base ({@link DeltaCodec}) holds only those bytes and runs a {@link
 * DeltaStem} shared by every state that replaces the same tensors; other states get a stem of their
 * own.
 *
 * <p>Swaps keep {@link OrtModelRuntime}'s semantics: a new state is built off to the side and
 * published with one atomic reference swap; an inference runs entirely on the state it acquired;
 * the old state closes when its last inference ends. A patch that replaces a tensor outside the
 * stem moves the cut deeper once (a new body) or, when no cut can hold it, gets a whole-model
 * session.
 *
 * <p>Thread safe. Swaps and {@link #variant}s are serialised by an internal lock that inference
 * never takes. Owns every session, tensor, mapping and cache file it creates; {@link #close}
 * releases them after in-flight inferences.
 */
public final class SplitOrtModelRuntime implements ModelRuntime {
  /** ONNX Runtime session config key that keeps kernels from copying constant weights. */
  static final String NO_PREPACKING = "session.disable_prepacking";

  private final String name;
  private final OrtEnvironment env;
  private final OnnxModel model;
  private final SessionSettings settings;
  private final WeightFiles files;
  private final SessionFactory factory;
  private final SessionFactory stemFactory;
  private final SessionFactory bodyFactory;
  private final SessionFactory deltaFactory;
  private final boolean compact;
  private final ReplacementBuffers buffers = new ReplacementBuffers();
  private final AtomicReference<SplitState> current = new AtomicReference<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Set<Variant> variants = ConcurrentHashMap.newKeySet();
  private ModelInterface contract;
  private volatile SplitLayout layout;
  // guarded by lock: the body new split states share (null when not split); the tensors the stem
  // must hold; the whole model's mapped weights (null until a whole session is needed); closed
  private SharedBody body;
  private Set<String> covered = Set.of();
  private MappedWeights whole;
  private int bodies;
  private double lastBodyBuildMs;
  private boolean closed;

  private SplitOrtModelRuntime(
      String name,
      ModelFile file,
      ModelSettings modelSettings,
      SplitOptions options,
      Path weightCache) {
    this.name = name;
    this.env = OrtEnvironment.getEnvironment();
    this.model = file.model();
    this.settings = SessionSettings.of(modelSettings);
    // exact states' replaced tensors: the same tensors again at every patch, so their direct
    // buffers are reused rather than allocated, zeroed and faulted in each time
    this.factory = new SessionFactory(env, settings, Map.of(), true, buffers);
    // Without pre-packing, the body and the stems read their base weights straight from the
    // shared mapping and hold no private copy of them (a stem holds only its replaced tensors);
    // but unpacked MatMul kernels round differently from the packed ones of a whole-model
    // session, so it is opt-in. Stems run without the memory arena either way: there may be many,
    // each small, and an arena would keep its activation memory for good.
    Map<String, String> packing = options.prepack() ? Map.of() : Map.of(NO_PREPACKING, "1");
    this.bodyFactory =
        options.prepack() ? factory : new SessionFactory(env, settings, packing, true, buffers);
    this.stemFactory = new SessionFactory(env, settings, packing, false, buffers);
    this.compact = options.compact();
    // The delta stem's patched weights are computed at run time, so their MatMuls run unpacked
    // whatever the option; its other weights are not pre-packed either (measured on the DeiT-S
    // stem: a packed copy of block 0's fc2, 2.25 MiB, that the base stem already holds).
    this.deltaFactory = new SessionFactory(env, settings, Map.of(NO_PREPACKING, "1"), false);
    this.files = WeightFiles.create(weightCache, name, env);
  }

  /**
   * Loads a model: plans the cut, builds the base state in the chosen layout.
   *
   * @param weightCache folder under which the model's memory-mapped weight files are written
   * @throws GraftException {@code INVALID_ARGUMENT} when ONNX Runtime cannot load the model or
   *     {@code option.graft.split=on} cannot be honoured
   */
  public static SplitOrtModelRuntime open(
      String name, ModelFile file, ModelSettings settings, Path weightCache) {
    SplitOptions options = SplitOptions.of(settings);
    SplitOrtModelRuntime runtime =
        new SplitOrtModelRuntime(name, file, settings, options, weightCache);
    try {
      runtime.start(options);
      return runtime;
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
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

  @Override
  public String weightsLabel() {
    SplitState s = current.get();
    return s == null ? "closed" : s.label();
  }

  /** The layout in use and why. */
  public SplitLayout layout() {
    return layout;
  }

  /** The optimisation actually used, as for {@link OrtModelRuntime#sessionSettings()}. */
  public SessionSettings sessionSettings() {
    return settings;
  }

  @Override
  public boolean takesByteDeltas() {
    return compact;
  }

  @Override
  public Map<String, Object> describe() {
    Map<String, Object> v = OrtModelRuntime.describe(settings);
    v.put("layout", layout.toMap());
    v.put("compactStates", compact);
    return v;
  }

  @Override
  public InferenceResult infer(Map<String, FloatTensor> feeds, Set<String> wanted) {
    Set<String> outputNames = contract.outputNames(wanted);
    contract.checkInputs(feeds);
    SplitState state = acquire();
    try {
      return inferOn(state, feeds, outputNames);
    } finally {
      state.release();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Checks every input against the graph (name, data type, shape) before ONNX Runtime sees it.
   */
  @Override
  public TensorResult run(List<Tensor> feeds, Set<String> wanted, WeightVariant variant) {
    Set<String> outputNames = contract.outputNames(wanted);
    contract.checkTensors(feeds);
    SplitState state = acquire(variant);
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      for (Tensor t : feeds) {
        tensors.put(t.name(), OrtTensors.create(env, t));
      }
      return state.run(
          tensors,
          outputNames,
          (label, result) -> {
            List<Tensor> values = new ArrayList<>();
            for (Map.Entry<String, OnnxValue> e : result) {
              values.add(OrtTensors.read(e.getKey(), e.getValue()));
            }
            return new TensorResult(label, values);
          });
    } catch (OrtException e) {
      throw rejected(e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
      state.release();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Built exactly as {@link #swapWeights} builds a state: on a split model, one stem on the
   * shared body.
   */
  @Override
  public Variant openVariant(Weights weights) {
    contract.validate(weights);
    lock.lock();
    try {
      requireOpen();
      Variant v = new Variant(build(weights), true);
      variants.add(v);
      return v;
    } finally {
      lock.unlock();
    }
  }

  /** {@inheritDoc} Not tracked as an open variant: the caller closes it when its request ends. */
  @Override
  public WeightVariant acquireCurrent() {
    return new Variant(acquire(), false);
  }

  /**
   * The model bytes held on the heap, the body's mapped weights once, for the current state and
   * every open variant its replacement tensors, and once each the byte-delta indexes they share or
   * the current body keeps, and the idle buffers kept for the next replacements. Stem base weights
   * are counted with the body.
   */
  @Override
  public long weightBytes() {
    long bytes = model.proto().getSerializedSize() + buffers.idleBytes();
    SplitLayout l = layout;
    bytes += l == null ? 0 : l.mappedBytes();
    Set<SharedTensor> shared = new HashSet<>(); // identity: SharedTensor keeps Object's equals
    SplitState s = current.get();
    if (s != null) {
      bytes += s.overrideBytes();
      shared.addAll(s.sharedIndexes());
      if (s.body() != null) {
        shared.addAll(s.body().keptIndexes());
      }
    }
    for (Variant v : variants) {
      bytes += v.state.overrideBytes();
      shared.addAll(v.state.sharedIndexes());
    }
    for (SharedTensor t : shared) {
      bytes += t.bytes();
    }
    return bytes;
  }

  @Override
  public void swapWeights(Weights weights) {
    contract.validate(weights);
    lock.lock();
    try {
      requireOpen();
      SplitState next = build(weights);
      SplitState previous = current.get();
      if (previous == null || !current.compareAndSet(previous, next)) {
        next.release();
        throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
      }
      previous.release();
    } finally {
      lock.unlock();
    }
  }

  /**
   * A weight state held by its caller: an {@link #openVariant} (tracked, closed with the runtime)
   * or the pinned current state of {@link #acquireCurrent}. Thread safe; {@link #close} is
   * idempotent and the state's native objects go when the last inference on it ends.
   */
  public final class Variant implements WeightVariant {
    private final SplitState state;
    private final boolean tracked;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private Variant(SplitState state, boolean tracked) {
      this.state = state;
      this.tracked = tracked;
    }

    @Override
    public String label() {
      return state.label();
    }

    /** Whether the variant runs a stem and the shared body. */
    public boolean isSplit() {
      return state.isSplit();
    }

    /** Whether the variant is byte deltas on the shared delta stem ({@link SplitOptions}). */
    public boolean isCompact() {
      return state.isCompact();
    }

    @Override
    public boolean tryAcquire() {
      return open.get() && state.tryAcquire();
    }

    @Override
    public void release() {
      state.release();
    }

    /** Runs one inference on the variant's weights, as {@link ModelRuntime#infer}. */
    public InferenceResult infer(Map<String, FloatTensor> feeds, Set<String> wanted) {
      Set<String> outputNames = contract.outputNames(wanted);
      contract.checkInputs(feeds);
      SplitState s = acquire(this);
      try {
        return inferOn(s, feeds, outputNames);
      } finally {
        s.release();
      }
    }

    @Override
    public void close() {
      if (open.compareAndSet(true, false)) {
        if (tracked) {
          variants.remove(this);
        }
        state.release();
      }
    }

    private SplitOrtModelRuntime owner() {
      return SplitOrtModelRuntime.this;
    }

    @Override
    public String toString() {
      return "weights " + state.label() + " of " + name;
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      buffers.close();
      SplitState s = current.getAndSet(null);
      if (s != null) {
        s.release();
      }
      if (body != null) {
        body.release();
        body = null;
      }
      if (whole != null) {
        whole.release();
        whole = null;
      }
      for (Variant v : variants) {
        v.close();
      }
      files.close();
    } finally {
      lock.unlock();
    }
  }

  /** Takes a reference on the current state; the caller must release it. */
  SplitState acquire() {
    while (true) {
      SplitState s = current.get();
      if (s == null) {
        throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
      }
      if (s.tryAcquire()) {
        return s;
      }
      // s was retired and closed between the read and the acquire: read the new current one
    }
  }

  /** The state of {@code variant} (this runtime's), or the current one; the caller releases it. */
  private SplitState acquire(WeightVariant variant) {
    if (variant == null) {
      return acquire();
    }
    if (!(variant instanceof Variant v) || v.owner() != this) {
      throw GraftException.precondition("%s: weights %s are not this model's", name, variant);
    }
    if (!v.tryAcquire()) {
      throw new GraftException(
          GraftException.Code.UNAVAILABLE, name + ": weights " + v.label() + " were closed");
    }
    return v.state;
  }

  private InferenceResult inferOn(
      SplitState state, Map<String, FloatTensor> feeds, Set<String> outputNames) {
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      for (TensorSpec spec : contract.inputs()) {
        FloatTensor t = feeds.get(spec.name());
        tensors.put(
            spec.name(), OnnxTensor.createTensor(env, FloatBuffer.wrap(t.data()), t.dims()));
      }
      return state.run(
          tensors,
          outputNames,
          (label, result) -> {
            List<FloatTensor> values = new ArrayList<>();
            for (Map.Entry<String, OnnxValue> e : result) {
              values.add(contract.toFloatTensor(e.getKey(), e.getValue()));
            }
            return new InferenceResult(label, values);
          });
    } catch (OrtException e) {
      throw rejected(e);
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }

  private GraftException rejected(OrtException e) {
    return new GraftException(
        GraftException.Code.INVALID_ARGUMENT,
        name + ": ONNX Runtime rejected the input: " + e.getMessage(),
        e);
  }

  /** Variants opened and not yet closed (tests). */
  int openVariants() {
    return variants.size();
  }

  /** Takes a reference on the state of {@code variant}; the caller releases it (tests). */
  SplitState stateOf(WeightVariant variant) {
    return acquire(variant);
  }

  /** The state new inferences would acquire (tests). */
  SplitState currentState() {
    return current.get();
  }

  /** The folder of this model's memory-mapped weight files (tests). */
  Path weightFolder() {
    return files.dir();
  }

  // ---- load

  private void start(SplitOptions options) {
    lock.lock();
    try {
      ModelSplit split = null;
      String refusal = null;
      if (options.mode() == SplitOptions.Mode.OFF) {
        refusal = "option.graft.split=off";
      } else {
        try {
          split = ModelSplitter.split(model, initialCut(options));
        } catch (GraftException e) {
          if (options.mode() == SplitOptions.Mode.ON) {
            throw GraftException.invalid(
                "%s: option.graft.split=on, but the model cannot be split: %s",
                name, e.getMessage());
          }
          refusal = "no cut: " + e.getMessage();
        }
      }
      if (split == null) {
        double wholeMs = startWhole();
        layout =
            new SplitLayout(
                options.mode(),
                false,
                List.of(),
                List.of(),
                refusal,
                -1,
                -1,
                wholeMs,
                whole.mappedBytes(),
                0);
        return;
      }
      startSplit(options, split);
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          name + ": ONNX Runtime cannot build a session: " + e.getMessage(),
          e);
    } finally {
      lock.unlock();
    }
  }

  /** The configured cut, else the one after the first {@code layers} weight layers. */
  private GraphCut initialCut(SplitOptions options) {
    if (options.cut().isPresent()) {
      return options.cut().get();
    }
    if (options.after().isPresent()) {
      return CutFinder.afterLayer(model, options.after().get());
    }
    List<WeightLayer> layers = model.layers();
    if (layers.size() < 2) {
      throw GraftException.precondition("%d weight layer(s): nothing to share", layers.size());
    }
    Set<String> tensors = new LinkedHashSet<>();
    for (WeightLayer l : layers.subList(0, Math.min(options.layers(), layers.size() - 1))) {
      tensors.addAll(l.tensorNames());
    }
    return CutFinder.afterTensors(model, tensors);
  }

  private double startWhole() throws OrtException {
    whole = files.map(model, "whole", name);
    long t0 = System.nanoTime();
    SplitState base = wholeState(Weights.base());
    double ms = millisSince(t0);
    publishBase(base);
    return ms;
  }

  private void startSplit(SplitOptions options, ModelSplit split) throws OrtException {
    body = buildBody(split);
    covered = stemOnlyLayerTensors(split);
    long t0 = System.nanoTime();
    SessionFactory.Built stem = stemFactory.build(body.stem(), List.of());
    double stemMs = millisSince(t0);
    try {
      chooseLayout(options, split, stem, stemMs, lastBodyBuildMs);
    } catch (OrtException | RuntimeException e) {
      if (current.get() == null) {
        stem.closeQuietly(); // not handed to a state yet
      }
      throw e;
    }
  }

  private void chooseLayout(
      SplitOptions options,
      ModelSplit split,
      SessionFactory.Built stem,
      double stemMs,
      double bodyMs)
      throws OrtException {
    double wholeMs = -1;
    boolean useSplit = true;
    String reason = "option.graft.split=on";
    if (options.mode() == SplitOptions.Mode.AUTO) {
      whole = files.map(model, "whole", name);
      long t0 = System.nanoTime();
      SessionFactory.Built probe = factory.build(whole, List.of());
      wholeMs = millisSince(t0);
      probe.closeQuietly();
      useSplit = stemMs <= options.ratio() * wholeMs;
      reason =
          String.format(
              java.util.Locale.ROOT,
              "auto: a stem builds in %.1f ms, the whole model in %.1f ms (ratio %.3f, split at"
                  + " <= %.2f)",
              stemMs,
              wholeMs,
              stemMs / wholeMs,
              options.ratio());
    }
    if (useSplit) {
      if (whole != null) {
        whole.release(); // mapped again only if a patch ever needs a whole session
        whole = null;
      }
      body.acquireHeld();
      SplitState base;
      try {
        base = new SplitState(Weights.BASE_LABEL, stem, body, null);
      } catch (OrtException | RuntimeException e) {
        body.release();
        throw e;
      }
      publishBase(base);
      layout =
          new SplitLayout(
              options.mode(),
              true,
              split.cut().tensors(),
              layerNames(covered),
              reason,
              stemMs,
              bodyMs,
              wholeMs,
              body.mappedBytes(),
              0);
    } else {
      stem.closeQuietly();
      body.release();
      body = null;
      covered = Set.of();
      publishBase(wholeState(Weights.base()));
      layout =
          new SplitLayout(
              options.mode(),
              false,
              List.of(),
              List.of(),
              reason,
              stemMs,
              bodyMs,
              wholeMs,
              whole.mappedBytes(),
              0);
    }
  }

  /** Publishes the base state first, so that a failure after it leaves it to {@link #close}. */
  private void publishBase(SplitState base) throws OrtException {
    current.set(base);
    contract = base.isSplit() ? interfaceOfSplit(base) : interfaceOfWhole(base.session());
  }

  private ModelInterface interfaceOfWhole(OrtSession session) throws OrtException {
    return new ModelInterface(
        name,
        model,
        ModelInterface.specs(session.getInputInfo()),
        ModelInterface.specs(session.getOutputInfo()));
  }

  /** Graph inputs in graph order, from the stem and the body's pass-through; the body's outputs. */
  private ModelInterface interfaceOfSplit(SplitState state) throws OrtException {
    Map<String, NodeInfo> known = new LinkedHashMap<>(state.session().getInputInfo());
    state.body().session().getInputInfo().forEach(known::putIfAbsent);
    Map<String, NodeInfo> inputs = new LinkedHashMap<>();
    for (ValueInfoProto in : model.proto().getGraph().getInputList()) {
      NodeInfo info = known.get(in.getName());
      if (info != null) {
        inputs.put(in.getName(), info);
      }
    }
    return new ModelInterface(
        name,
        model,
        ModelInterface.specs(inputs),
        ModelInterface.specs(state.body().session().getOutputInfo()));
  }

  // ---- weight states (lock held)

  private SplitState build(Weights weights) {
    try {
      if (body == null) {
        return wholeState(weights);
      }
      if (!coversAll(body.split(), weights)) {
        replan(weights);
      }
      if (!coversAll(body.split(), weights)) {
        return wholeState(weights); // no cut keeps these tensors out of the body
      }
      if (compact && !weights.overrides().isEmpty()) {
        SplitState state = compactState(weights);
        if (state != null) {
          return state;
        }
      }
      SessionFactory.Built stem = stemFactory.build(body.stem(), weights.overrides());
      body.acquireHeld();
      try {
        return new SplitState(weights.label(), stem, body, null);
      } catch (OrtException | RuntimeException e) {
        stem.closeQuietly();
        body.release();
        throw e;
      }
    } catch (OrtException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL,
          name
              + ": ONNX Runtime cannot build a session for "
              + weights.label()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The weights as byte deltas on a delta stem of the body; null when they cannot be. */
  private SplitState compactState(Weights weights) throws OrtException {
    Set<String> tensors = new LinkedHashSet<>();
    for (FloatTensor t : weights.overrides()) {
      tensors.add(t.name());
    }
    DeltaStem stem;
    try {
      stem = body.deltaStem(env, deltaFactory, tensors);
    } catch (GraftException e) {
      return null; // e.g. a tensor a subgraph reads: these weights get a stem of their own
    }
    Optional<DeltaStem.Feeds> deltas = stem.encode(weights.overrides(), weights.deltas());
    if (deltas.isEmpty()) {
      return null;
    }
    body.acquireHeld();
    try {
      return new SplitState(weights.label(), stem, deltas.get(), body);
    } catch (OrtException | RuntimeException e) {
      deltas.get().close();
      body.release();
      throw e;
    }
  }

  private SplitState wholeState(Weights weights) throws OrtException {
    if (whole == null) {
      whole = files.map(model, "whole", name);
    }
    SessionFactory.Built built = factory.build(whole, weights.overrides());
    whole.acquireHeld();
    try {
      return new SplitState(weights.label(), built, null, whole);
    } catch (OrtException | RuntimeException e) {
      built.closeQuietly();
      whole.release();
      throw e;
    }
  }

  /** Moves the cut deeper so the stem holds what it held plus {@code weights}, if a cut can. */
  private void replan(Weights weights) throws OrtException {
    Set<String> wanted = new LinkedHashSet<>(covered);
    for (FloatTensor t : weights.overrides()) {
      wanted.add(t.name());
    }
    ModelSplit split;
    try {
      split = ModelSplitter.split(model, CutFinder.afterTensors(model, wanted));
    } catch (GraftException e) {
      return;
    }
    if (!split.stemTensors().containsAll(wanted)
        || wanted.stream().anyMatch(t -> !split.stemOnly(t))) {
      return;
    }
    SharedBody next = buildBody(split);
    body.release();
    body = next;
    covered = stemOnlyLayerTensors(split);
    layout = layout.replanned(split.cut().tensors(), layerNames(covered), next.mappedBytes());
  }

  /** Maps the stem's and the body's base weights and builds the body session. */
  private SharedBody buildBody(ModelSplit split) throws OrtException {
    int n = bodies++;
    MappedWeights stem = files.map(split.stem(), "stem-" + n, name + " stem");
    MappedWeights mapped;
    try {
      mapped = files.map(split.body(), "body-" + n, name + " body");
    } catch (RuntimeException e) {
      stem.release();
      throw e;
    }
    try {
      long t0 = System.nanoTime();
      SessionFactory.Built built = bodyFactory.build(mapped, List.of());
      lastBodyBuildMs = millisSince(t0); // the session only, not writing the weight files
      return new SharedBody(split, stem, built.session(), mapped);
    } catch (OrtException | RuntimeException e) {
      mapped.release();
      stem.release();
      throw e;
    }
  }

  private static boolean coversAll(ModelSplit split, Weights weights) {
    for (FloatTensor t : weights.overrides()) {
      if (!split.stemOnly(t.name())) {
        return false;
      }
    }
    return true;
  }

  private Set<String> stemOnlyLayerTensors(ModelSplit split) {
    Set<String> names = new LinkedHashSet<>();
    for (WeightLayer l : model.layers()) {
      for (String t : l.tensorNames()) {
        if (split.stemOnly(t)) {
          names.add(t);
        }
      }
    }
    return names;
  }

  private List<String> layerNames(Set<String> tensors) {
    List<String> names = new ArrayList<>();
    for (WeightLayer l : model.layers()) {
      if (tensors.contains(l.weight())) {
        names.add(l.name());
      }
    }
    return names;
  }

  private void requireOpen() {
    if (closed) {
      throw new GraftException(GraftException.Code.UNAVAILABLE, name + " is being unloaded");
    }
  }

  private static double millisSince(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }
}

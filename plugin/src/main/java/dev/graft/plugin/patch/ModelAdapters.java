package dev.graft.plugin.patch;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.Fingerprint;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.runtime.DeltaLevels;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.Weights;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The adapters of one model and the weights they make.
 *
 * <p>The live weights are always {@code base + Σ α·δ} over the attached adapters sorted by name,
 * computed from the unmodified base tensors with {@link RwsPatch#apply} (the same code as the
 * offline {@code graft rws apply}, so online and offline weights are bit-identical). With nothing
 * attached the runtime gets no overrides at all: exactly the base model.
 *
 * <p>Every change validates everything, has the runtime build and swap in the new weights, and only
 * then records the new adapter set; a refused change leaves both untouched. Changes of one model
 * are serialised by a lock that inference never takes. Reads are lock-free snapshots.
 *
 * <p>A {@link Journal} (see {@code dev.graft.plugin.state}) makes every validated change durable
 * before it goes live; {@link #restore} applies a set read back from it.
 */
public final class ModelAdapters {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  private final String model;
  private final ModelWeights base;
  private final Fingerprint fingerprint;
  private final ModelRuntime runtime;
  private final ReentrantLock lock = new ReentrantLock();
  // written under lock; an immutable sorted map
  private volatile SortedMap<String, Adapter> adapters = Collections.emptySortedMap();
  private volatile Journal journal = next -> {}; // written under lock
  // each registered signature's byte-delta levels (empty when it has none), by identity, so every
  // scale of a signature hands the runtime the same index arrays; pruned with every change
  private final Map<RwsSignature, Map<String, DeltaLevels>> levels =
      Collections.synchronizedMap(new IdentityHashMap<>());

  /**
   * Persists an adapter set before it goes live (write-ahead). Called with the change lock held,
   * after every check passed and before the runtime swaps; throwing refuses the change, which then
   * leaves the adapters and the weights untouched.
   */
  @FunctionalInterface
  public interface Journal {
    /**
     * @param next the complete set about to be live, sorted by name
     */
    void record(List<Adapter> next);
  }

  /**
   * @param base the model's base weights (ONNX or TorchScript), never modified
   * @param runtime receives every new weight set; not owned
   */
  public ModelAdapters(String model, ModelWeights base, ModelRuntime runtime) {
    this.model = model;
    this.base = base;
    this.fingerprint = base.fingerprint();
    this.runtime = runtime;
  }

  /** The model's name. */
  public String model() {
    return model;
  }

  /** Makes later changes go through {@code journal} first; the default journal keeps nothing. */
  public void useJournal(Journal journal) {
    lock.lock();
    try {
      this.journal = journal;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code action} holding this model's change lock (reentrant), so that reads and changes
   * made inside it are atomic with respect to every other change of the model.
   */
  public <T> T withLock(Supplier<T> action) {
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Makes {@code set} the live adapter set as a whole, without journaling it (it was read from the
   * journal: start-up replay, or a change made by another replica).
   *
   * @throws GraftException as {@link #check} for any adapter of the set, {@code INVALID_ARGUMENT}
   *     for a repeated name; the adapters and weights are then unchanged
   */
  public void restore(Collection<Adapter> set) {
    SortedMap<String, Adapter> next = new TreeMap<>();
    for (Adapter a : set) {
      check(a);
      if (next.put(a.name(), a) != null) {
        throw GraftException.invalid("adapter %s is given twice", a.name());
      }
    }
    lock.lock();
    try {
      SortedMap<String, Adapter> frozen = Collections.unmodifiableSortedMap(next);
      if (!terms(frozen).equals(terms(adapters))) {
        runtime.swapWeights(weightsOf(frozen));
      }
      adapters = frozen;
      forgetUnregisteredLevels();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Checks that an adapter could be part of this model's set: its name, its alpha and its
   * signature's fingerprint (architecture always, base weights unless {@code transfer}).
   *
   * @throws GraftException {@code INVALID_ARGUMENT} or {@code FAILED_PRECONDITION}
   */
  public void check(Adapter a) {
    checkName(a.name());
    checkAlpha(a.alpha());
    a.signature().requireApplicableTo(fingerprint, "model " + model, a.transfer());
  }

  /** Adapters of an ONNX model. */
  public ModelAdapters(String model, OnnxModel base, ModelRuntime runtime) {
    this(model, ModelWeights.of(base), runtime);
  }

  /** The base weights every patch is computed from. */
  public ModelWeights base() {
    return base;
  }

  /** A consistent view: the adapters sorted by name and the label of the weights they make. */
  public record Snapshot(List<Adapter> adapters, String weights) {}

  public Snapshot snapshot() {
    SortedMap<String, Adapter> now = adapters;
    return new Snapshot(List.copyOf(now.values()), label(now));
  }

  /** The base weights' fingerprint (the architecture and digest signatures are checked against). */
  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /**
   * @throws GraftException {@code NOT_FOUND} for an unknown name
   */
  public Adapter get(String name) {
    Adapter a = adapters.get(name);
    if (a == null) {
      throw GraftException.notFound("model %s has no adapter named %s", model, name);
    }
    return a;
  }

  /**
   * Registers a signature and, when {@code attach}, makes it live.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a bad name or a non-finite alpha, {@code
   *     ALREADY_EXISTS} for a taken name, {@code FAILED_PRECONDITION} for a signature of another
   *     architecture or (unless {@code transfer}) other base weights
   */
  public Adapter register(
      String name, SignatureSource.Loaded loaded, double alpha, boolean attach, boolean transfer) {
    checkName(name);
    checkAlpha(alpha);
    lock.lock();
    try {
      if (adapters.containsKey(name)) {
        throw new GraftException(
            GraftException.Code.ALREADY_EXISTS,
            "model " + model + " already has an adapter named " + name);
      }
      loaded.signature().requireApplicableTo(fingerprint, "model " + model, transfer);
      Adapter adapter =
          new Adapter(name, model, loaded.source(), alpha, attach, transfer, loaded.signature());
      commit(put(adapters, adapter));
      return adapter;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Changes the scale and/or the attachment of an adapter.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name, {@code INVALID_ARGUMENT} for a
   *     non-finite alpha or when neither is given
   */
  public Adapter update(String name, OptionalDouble alpha, Optional<Boolean> attach) {
    if (alpha.isEmpty() && attach.isEmpty()) {
      throw GraftException.invalid("give alpha and/or attach");
    }
    alpha.ifPresent(ModelAdapters::checkAlpha);
    lock.lock();
    try {
      Adapter a = get(name);
      if (alpha.isPresent()) {
        a = a.withAlpha(alpha.getAsDouble());
      }
      if (attach.isPresent()) {
        a = a.withAttached(attach.get());
      }
      commit(put(adapters, a));
      return a;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Detaches (if attached) and forgets an adapter.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name
   */
  public void remove(String name) {
    lock.lock();
    try {
      get(name);
      SortedMap<String, Adapter> next = new TreeMap<>(adapters);
      next.remove(name);
      commit(Collections.unmodifiableSortedMap(next));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Journals {@code next}, makes it live when it changes the weights, then records it. When the
   * swap fails the journal gets the unchanged set back. Caller holds lock.
   */
  private void commit(SortedMap<String, Adapter> next) {
    journal.record(List.copyOf(next.values()));
    if (!terms(next).equals(terms(adapters))) {
      try {
        runtime.swapWeights(weightsOf(next));
      } catch (RuntimeException | Error e) {
        try {
          journal.record(List.copyOf(adapters.values()));
        } catch (RuntimeException undo) {
          e.addSuppressed(undo);
        }
        throw e;
      }
    }
    adapters = next;
    forgetUnregisteredLevels();
  }

  /** Drops the levels of signatures no adapter has any more. Caller holds lock. */
  private void forgetUnregisteredLevels() {
    Set<RwsSignature> registered = Collections.newSetFromMap(new IdentityHashMap<>());
    adapters.values().forEach(a -> registered.add(a.signature()));
    levels.keySet().retainAll(registered);
  }

  /** The weights an adapter set makes (computed from the base; see the class comment). */
  Weights weightsOf(SortedMap<String, Adapter> set) {
    List<RwsPatch.Term> terms = terms(set);
    if (terms.isEmpty()) {
      return Weights.base();
    }
    List<FloatTensor> patched = RwsPatch.apply(this::baseTensor, terms);
    if (terms.size() == 1 && runtime.takesByteDeltas()) {
      // one signature's change is already byte deltas: spare the runtime the search for them
      RwsPatch.Term t = terms.get(0);
      Map<String, DeltaLevels> l =
          levels.computeIfAbsent(t.signature(), s -> DeltaLevels.of(s).orElse(Map.of()));
      return new Weights(label(set), patched, DeltaLevels.scaled(l, t.alpha()));
    }
    return new Weights(label(set), patched);
  }

  private FloatTensor baseTensor(String tensor) {
    if (!base.hasTensor(tensor)) {
      throw GraftException.precondition("model %s has no tensor %s", model, tensor);
    }
    return base.floatTensor(tensor);
  }

  private static List<RwsPatch.Term> terms(SortedMap<String, Adapter> set) {
    List<RwsPatch.Term> terms = new ArrayList<>();
    for (Adapter a : set.values()) {
      if (a.attached()) {
        terms.add(new RwsPatch.Term(a.signature(), a.alpha()));
      }
    }
    return terms;
  }

  /** {@code base}, or the attached adapters' {@code name@alpha} in name order joined by '+'. */
  static String label(Map<String, Adapter> set) {
    String joined =
        set.values().stream()
            .filter(Adapter::attached)
            .map(Adapter::term)
            .collect(Collectors.joining("+"));
    return joined.isEmpty() ? Weights.BASE_LABEL : joined;
  }

  private static SortedMap<String, Adapter> put(SortedMap<String, Adapter> set, Adapter a) {
    SortedMap<String, Adapter> next = new TreeMap<>(set);
    next.put(a.name(), a);
    return Collections.unmodifiableSortedMap(next);
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw GraftException.invalid(
          "adapter name '%s' must be 1-128 letters, digits, '_', '.' or '-'", name);
    }
  }

  private static void checkAlpha(double alpha) {
    if (!Double.isFinite(alpha)) {
      throw GraftException.invalid("alpha must be a finite number, got %s", alpha);
    }
  }
}

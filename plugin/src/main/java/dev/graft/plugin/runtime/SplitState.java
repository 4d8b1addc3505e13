package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One weight state of a {@link SplitOrtModelRuntime}: either a stem session (built for these
 * weights) followed by a {@link SharedBody}, or one whole-model session. Immutable.
 *
 * <p>A compact state instead runs its body's {@link DeltaStem} (owned by the body) with its own
 * byte deltas: it owns their tables (and any index found by search) and holds a reference on each
 * index the delta stem keeps.
 *
 * <p>Ownership: owns its session and the override tensors the session reads, and holds one
 * reference on the body and on the mapped weights it was built over; all are let go when the count
 * reaches zero (session first: it reads the others). Counted like {@link WeightState}: one
 * reference for the publisher, one per inference in flight. Thread safe.
 */
final class SplitState extends RefCounted {
  private static final Logger LOG = Logger.getLogger(SplitState.class.getName());

  private final String label;
  private final OrtSession session;
  private final boolean ownsSession;
  private final Set<String> sessionInputs;
  private final SessionFactory.Built built; // null for a compact state
  private final Map<String, OnnxTensor> deltaFeeds;
  private final DeltaStem.Feeds deltas;
  private final SharedBody body;
  private final MappedWeights mapped;

  /**
   * Takes over {@code built} and the caller's references on {@code body} and {@code mapped}.
   *
   * @param body the body to run after the session, or {@code null} for a whole-model session
   * @param mapped the mapped weights the session reads, or {@code null}
   */
  SplitState(String label, SessionFactory.Built built, SharedBody body, MappedWeights mapped)
      throws OrtException {
    this.label = label;
    this.session = built.session();
    this.ownsSession = true;
    this.sessionInputs = Set.copyOf(built.session().getInputNames());
    this.built = built;
    this.deltaFeeds = Map.of();
    this.deltas = null;
    this.body = body;
    this.mapped = mapped;
  }

  /**
   * A compact state: {@code body}'s delta stem run with {@code deltas} (taken over: this state
   * closes them), then the body. Takes over the caller's reference on {@code body}.
   */
  SplitState(String label, DeltaStem stem, DeltaStem.Feeds deltas, SharedBody body)
      throws OrtException {
    this.label = label;
    this.session = stem.session();
    this.ownsSession = false;
    this.deltaFeeds = deltas.inputs();
    this.sessionInputs = stem.stemInputs();
    this.built = null;
    this.deltas = deltas;
    this.body = body;
    this.mapped = null;
  }

  String label() {
    return label;
  }

  /** Whether this state runs the shared delta stem with byte deltas. */
  boolean isCompact() {
    return !ownsSession;
  }

  /** Whether this state runs a stem and a shared body. */
  boolean isSplit() {
    return body != null;
  }

  /** The stem or whole-model session; valid while a reference is held. */
  OrtSession session() {
    return session;
  }

  /** The body, or {@code null}; valid while a reference is held. */
  SharedBody body() {
    return body;
  }

  /** Reads what it needs out of a session's result, before the result is closed. */
  interface Reader<R> {
    R read(String weights, OrtSession.Result result) throws OrtException;
  }

  /**
   * Runs one inference on validated native inputs (the caller owns and closes them). The stem's
   * outputs go to the body as the native tensors ONNX Runtime returned, without a copy into Java
   * arrays; they are closed with the stem's result, after the body has run.
   */
  <R> R run(Map<String, OnnxTensor> inputs, Set<String> outputs, Reader<R> reader)
      throws OrtException {
    if (body == null) {
      try (OrtSession.Result result = session.run(inputs, outputs)) {
        return reader.read(label, result);
      }
    }
    Map<String, OnnxTensor> stemFeeds = new HashMap<>(inputs);
    stemFeeds.keySet().retainAll(sessionInputs);
    stemFeeds.putAll(deltaFeeds);
    try (OrtSession.Result cut = session.run(stemFeeds)) {
      Map<String, OnnxTensor> bodyFeeds = new HashMap<>();
      for (Map.Entry<String, OnnxValue> e : cut) {
        bodyFeeds.put(e.getKey(), (OnnxTensor) e.getValue());
      }
      for (String in : body.passThrough()) {
        bodyFeeds.put(in, inputs.get(in));
      }
      try (OrtSession.Result result = body.session().run(bodyFeeds, outputs)) {
        return reader.read(label, result);
      }
    }
  }

  /**
   * Bytes of the replacement tensors (or byte deltas) this state owns; kept indexes it shares are
   * not counted ({@link #sharedIndexes}).
   */
  long overrideBytes() {
    long bytes = deltas == null ? 0 : deltas.ownedBytes();
    for (OnnxTensor t : built == null ? List.<OnnxTensor>of() : built.overrides()) {
      bytes += t.getInfo().getNumElements() * t.getInfo().type.size;
    }
    return bytes;
  }

  /** The kept byte-delta indexes this state reads and shares with others. */
  List<SharedTensor> sharedIndexes() {
    return deltas == null ? List.of() : deltas.shared();
  }

  @Override
  protected void closeNative() {
    if (ownsSession) {
      try {
        session.close();
      } catch (OrtException | RuntimeException e) {
        LOG.log(Level.WARNING, "Closing the session of weights " + label + " failed", e);
      }
    }
    if (built != null) {
      built.closeOverrides();
    }
    if (deltas != null) {
      deltas.close();
    }
    if (body != null) {
      body.release();
    }
    if (mapped != null) {
      mapped.release();
    }
  }

  @Override
  public String toString() {
    return "weights "
        + label
        + (body == null
            ? " (whole)"
            : (ownsSession ? " (stem + " : " (delta stem + ") + body + ")");
  }
}

package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.split.ModelSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one body session that every weight state of a split model runs after its own stem, built over
 * memory-mapped base weights, together with the stem's graph and mapped base weights.
 *
 * <p>Ownership: owns the session, the {@link DeltaStem}s built on it, and one reference on each
 * {@link MappedWeights}. Reference counted: the runtime holds one reference while this body is its
 * current plan, and each weight state built on it holds one, so the session (and the stem weights
 * every stem session reads) closes after the last inference that can use it. ONNX Runtime sessions
 * run concurrently, so the body needs no lock. Thread safe.
 */
final class SharedBody extends RefCounted {
  private static final Logger LOG = Logger.getLogger(SharedBody.class.getName());

  private final ModelSplit split;
  private final MappedWeights stem;
  private final OrtSession session;
  private final MappedWeights weights;
  // the delta stems by the set of tensors they take deltas for; written under the runtime's lock
  // (closeNative runs after the last reference, so alone), read without it to count memory
  private final Map<Set<String>, DeltaStem> deltaStems = new ConcurrentHashMap<>();

  /**
   * Takes over {@code session} and the caller's references on {@code stem} and {@code weights}.
   *
   * @param stem the stem that goes with this body: its graph and mapped base weights
   */
  SharedBody(ModelSplit split, MappedWeights stem, OrtSession session, MappedWeights weights) {
    this.split = split;
    this.stem = stem;
    this.session = session;
    this.weights = weights;
  }

  /** The stem every weight state on this body builds its own session from. */
  MappedWeights stem() {
    return stem;
  }

  /**
   * The stem that takes byte deltas for exactly {@code tensors}, built on first use as {@code
   * stem-delta-K.onnx} next to the stem's graph; valid while a reference is held. Callers serialise
   * (the runtime's lock).
   */
  DeltaStem deltaStem(OrtEnvironment env, SessionFactory factory, Set<String> tensors)
      throws OrtException {
    DeltaStem d = deltaStems.get(tensors);
    if (d == null) {
      String file =
          stem.graphFile().getFileName().toString().replaceFirst("\\.onnx$", "")
              + "-delta-"
              + deltaStems.size()
              + ".onnx";
      d = DeltaStem.build(env, factory, stem, tensors, file);
      deltaStems.put(Set.copyOf(tensors), d);
    }
    return d;
  }

  /** The byte-delta index tensors its delta stems keep. */
  List<SharedTensor> keptIndexes() {
    List<SharedTensor> out = new ArrayList<>();
    for (DeltaStem d : deltaStems.values()) {
      out.addAll(d.keptIndexes());
    }
    return out;
  }

  /** Bytes of body and stem base weights served from mappings. */
  long mappedBytes() {
    return weights.mappedBytes() + stem.mappedBytes();
  }

  ModelSplit split() {
    return split;
  }

  /** Valid while a reference is held. */
  OrtSession session() {
    return session;
  }

  /** Graph inputs the body reads directly, besides the cut tensors. */
  List<String> passThrough() {
    return split.passThrough();
  }

  @Override
  protected void closeNative() {
    try {
      session.close();
    } catch (OrtException | RuntimeException e) {
      LOG.log(Level.WARNING, "Closing body session at " + split.cut() + " failed", e);
    }
    deltaStems.values().forEach(DeltaStem::close);
    weights.release();
    stem.release();
  }

  @Override
  public String toString() {
    return "body from " + split.cut();
  }
}

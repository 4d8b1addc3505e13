package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.split.ModelSplit;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one body session that every weight state of a split model runs after its own stem, built over
 * memory-mapped base weights, together with the stem's graph and mapped base weights.
 *
 * <p>Ownership: owns the session and one reference on each {@link MappedWeights}. Reference
 * counted: the runtime holds one reference while this body is its current plan, and each weight
 * state built on it holds one, so the session (and the stem weights every stem session reads)
 * closes after the last inference that can use it. ONNX Runtime sessions run concurrently, so the
 * body needs no lock. Thread safe.
 */
final class SharedBody extends RefCounted {
  private static final Logger LOG = Logger.getLogger(SharedBody.class.getName());

  private final ModelSplit split;
  private final MappedWeights stem;
  private final OrtSession session;
  private final MappedWeights weights;

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
    weights.release();
    stem.release();
  }

  @Override
  public String toString() {
    return "body from " + split.cut();
  }
}

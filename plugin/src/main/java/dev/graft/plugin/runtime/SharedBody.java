package dev.graft.plugin.runtime;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.graft.onnx.split.ModelSplit;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one body session that every weight state of a split model runs after its own stem, built over
 * memory-mapped base weights.
 *
 * <p>Ownership: owns the session and one reference on its {@link MappedWeights}. Reference counted:
 * the runtime holds one reference while this body is its current plan, and each weight state built
 * on it holds one, so the session closes after the last inference that can use it. ONNX Runtime
 * sessions run concurrently, so the body needs no lock. Thread safe.
 */
final class SharedBody extends RefCounted {
  private static final Logger LOG = Logger.getLogger(SharedBody.class.getName());

  private final ModelSplit split;
  private final byte[] stemGraph;
  private final OrtSession session;
  private final MappedWeights weights;

  /**
   * Takes over {@code session} and the caller's reference on {@code weights}.
   *
   * @param stemGraph the serialized stem that goes with this body, weights inline
   */
  SharedBody(ModelSplit split, byte[] stemGraph, OrtSession session, MappedWeights weights) {
    this.split = split;
    this.stemGraph = stemGraph;
    this.session = session;
    this.weights = weights;
  }

  /** The serialized stem every weight state on this body builds its own session from. */
  byte[] stemGraph() {
    return stemGraph;
  }

  /** Bytes of body weights served from the mapping. */
  long mappedBytes() {
    return weights.mappedBytes();
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
  }

  @Override
  public String toString() {
    return "body from " + split.cut();
  }
}

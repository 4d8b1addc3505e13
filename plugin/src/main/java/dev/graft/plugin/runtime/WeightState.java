package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An immutable snapshot of a model's weights: the session built for them plus the override tensors
 * that session reads, with a reference count.
 *
 * <p>Ownership: the state owns {@link #session()} and the override tensors, and closes them
 * together when the count drops to zero (the tensors must outlive the session, which reads their
 * memory). The count starts at one, the reference of whoever publishes the state as current; each
 * inference {@link #tryAcquire}s and {@link #release}s one more. Retiring a state is releasing the
 * publisher's reference, so the native objects go away when the last in-flight inference ends.
 * Thread safe.
 */
final class WeightState {
  private static final Logger LOG = Logger.getLogger(WeightState.class.getName());

  private final String label;
  private final OrtSession session;
  private final List<OnnxTensor> overrides;
  private final AtomicInteger refs = new AtomicInteger(1);

  WeightState(String label, OrtSession session, List<OnnxTensor> overrides) {
    this.label = label;
    this.session = session;
    this.overrides = List.copyOf(overrides);
  }

  String label() {
    return label;
  }

  /** Bytes of the override tensors this state holds (float32 each). */
  long overrideBytes() {
    return overrides.stream().mapToLong(t -> t.getInfo().getNumElements() * Float.BYTES).sum();
  }

  /** The session; only valid between a successful {@link #tryAcquire} and its release. */
  OrtSession session() {
    return session;
  }

  /**
   * Takes a reference unless the state is already closed.
   *
   * @return false when the count had reached zero (the caller must pick up the new current state)
   */
  boolean tryAcquire() {
    while (true) {
      int n = refs.get();
      if (n == 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the session, then the override tensors. */
  void release() {
    int n = refs.decrementAndGet();
    if (n == 0) {
      closeNative();
    } else if (n < 0) {
      throw new IllegalStateException("weight state " + label + " released more than acquired");
    }
  }

  /** Whether the native objects have been freed. */
  boolean isClosed() {
    return refs.get() == 0;
  }

  /** References currently held (the publisher's plus in-flight inferences). */
  int references() {
    return refs.get();
  }

  private void closeNative() {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.log(Level.WARNING, "Closing the session of weights " + label + " failed", e);
    }
    for (OnnxTensor t : overrides) {
      t.close();
    }
  }
}

package dev.graft.plugin.runtime;

/**
 * Weights built beside a model's current weights, for requests that choose their own adapters (see
 * {@link ModelRuntime#openVariant}); the current weights do not change.
 *
 * <p>Reference counted like the current weights: whoever opened the variant holds one reference
 * until {@link #close}; each inference on it takes one more with {@link #tryAcquire} and gives it
 * back with {@link #release}. The native resources are freed when the last reference goes, so
 * closing a variant never fails a request already running on it. The runtime that opened a variant
 * closes it too when the runtime itself closes. Thread safe.
 */
public interface WeightVariant extends AutoCloseable {

  /** The label of the weights, as in {@code X-Graft-Weights}. */
  String label();

  /**
   * Takes a reference for one inference.
   *
   * @return false once the variant is closed and its last inference has ended
   */
  boolean tryAcquire();

  /** Gives back a reference taken by {@link #tryAcquire}. */
  void release();

  /** Gives back the opener's reference. Idempotent. */
  @Override
  void close();
}

package dev.graft.plugin.runtime;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A native resource shared by reference counting. The count starts at one, the reference of the
 * creator; {@link #tryAcquire} adds one unless the resource is already closed, {@link #release}
 * drops one, and the release that reaches zero frees the resource, exactly once. Thread safe.
 */
abstract class RefCounted {
  private final AtomicInteger refs = new AtomicInteger(1);

  /**
   * Takes a reference unless the resource is already closed.
   *
   * @return false when the count had reached zero
   */
  final boolean tryAcquire() {
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

  /**
   * Takes a reference the caller knows to be available because it holds one already.
   *
   * @throws IllegalStateException when the resource is closed (a reference-counting bug)
   */
  final void acquireHeld() {
    if (!tryAcquire()) {
      throw new IllegalStateException(this + " is already closed");
    }
  }

  /** Drops a reference; the last one frees the resource. */
  final void release() {
    int n = refs.decrementAndGet();
    if (n == 0) {
      closeNative();
    } else if (n < 0) {
      throw new IllegalStateException(this + " released more than acquired");
    }
  }

  /** Whether the resource has been freed. */
  final boolean isClosed() {
    return refs.get() == 0;
  }

  /** References currently held. */
  final int references() {
    return refs.get();
  }

  /** Frees the native objects; called once, by the last {@link #release}. Must not throw. */
  protected abstract void closeNative();
}

package dev.graft.it;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Polling with a deadline: the only way these tests wait for the server. */
public final class Poll {
  private static final long PAUSE_NANOS = Duration.ofMillis(50).toNanos();

  private Poll() {}

  /** Waits a short interval between two polls (not a synchronisation: the caller re-checks). */
  public static void pause() {
    LockSupport.parkNanos(PAUSE_NANOS);
  }

  /**
   * Calls {@code probe} until it returns a non-null value or the deadline passes.
   *
   * @throws AssertionError naming {@code what} on timeout
   */
  public static <T> T until(String what, Duration timeout, Supplier<T> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      pause();
    }
  }
}

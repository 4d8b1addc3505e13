package dev.graft.durable;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Polls a condition until a deadline (never a fixed sleep standing in for synchronisation). */
final class Poll {
  private Poll() {}

  /**
   * Evaluates {@code value} every {@code every} until it is non-null, returning it and how long it
   * took; fails with {@code what} after {@code limit}.
   */
  static <T> Timed<T> until(Duration limit, Duration every, String what, Supplier<T> value) {
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    while (true) {
      T v = value.get();
      if (v != null) {
        return new Timed<>(v, Duration.ofNanos(System.nanoTime() - start));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not reached within " + limit);
      }
      LockSupport.parkNanos(every.toNanos());
    }
  }

  /** A value and the time it took to get it. */
  record Timed<T>(T value, Duration took) {}
}

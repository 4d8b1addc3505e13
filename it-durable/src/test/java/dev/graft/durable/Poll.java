package dev.graft.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
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

  /**
   * Checks {@code holds} every 10 ms (for up to 10 s) until it is true, asserts that took at most
   * {@code limit}, and returns the milliseconds it took: how long a replica needs to converge.
   */
  static long convergesWithin(Duration limit, String what, BooleanSupplier holds) {
    Timed<Boolean> t =
        until(
            Duration.ofSeconds(10),
            Duration.ofMillis(10),
            what,
            () -> holds.getAsBoolean() ? true : null);
    assertThat(t.took()).as("time until %s", what).isLessThanOrEqualTo(limit);
    return t.took().toMillis();
  }

  /** A value and the time it took to get it. */
  record Timed<T>(T value, Duration took) {}
}

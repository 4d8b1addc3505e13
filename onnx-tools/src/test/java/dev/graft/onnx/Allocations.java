package dev.graft.onnx;

import java.lang.management.ManagementFactory;

/**
 * Heap bytes the current thread allocates while running a piece of code, from HotSpot's per-thread
 * allocation counter. Tests use it to show that a parser refuses a size claim before allocating
 * anything of that size, also for claims small enough that the allocation would have succeeded.
 */
public final class Allocations {
  private Allocations() {}

  /** What {@link #measure} returns: the bytes allocated and what the code threw, if anything. */
  public record Measured(long bytes, Throwable thrown) {}

  /** Runs {@code code} on this thread and returns the heap bytes it allocated and its exception. */
  public static Measured measure(Runnable code) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    Throwable thrown = null;
    try {
      code.run();
    } catch (Throwable t) { // the caller asserts on it, OutOfMemoryError included
      thrown = t;
    }
    long after = threads.getThreadAllocatedBytes(id);
    return new Measured(after - before, thrown);
  }
}

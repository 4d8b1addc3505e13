package dev.graft.plugin.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * A worker pool of one thread and a queue of one held full: the thread runs a task that waits, and
 * a second task takes the queue's slot, so the next {@code execute} is rejected (what the handler
 * answers "over capacity"). Closing (idempotent) lets the waiting task finish; it does not shut the
 * pool down.
 */
public final class FullQueue implements AutoCloseable {
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch queuedTaskRan = new CountDownLatch(1);

  private FullQueue() {}

  /** Fills {@code workers}, a pool of one thread with a queue of one; returns once it is full. */
  public static FullQueue fill(ThreadPoolExecutor workers) throws InterruptedException {
    if (workers.getMaximumPoolSize() != 1
        || workers.getQueue().size() + workers.getQueue().remainingCapacity() != 1) {
      throw new IllegalArgumentException("a pool of one thread with a queue of one is needed");
    }
    FullQueue full = new FullQueue();
    CountDownLatch running = new CountDownLatch(1);
    workers.execute(
        () -> {
          running.countDown();
          try {
            full.release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    try {
      running.await();
      workers.execute(full.queuedTaskRan::countDown);
    } catch (InterruptedException | RuntimeException e) {
      full.close();
      throw e;
    }
    return full;
  }

  /** Lets the waiting task finish and waits until the queued one has run: the queue is empty. */
  public void drain() throws InterruptedException {
    release.countDown();
    queuedTaskRan.await();
  }

  @Override
  public void close() {
    release.countDown();
  }
}

package dev.graft.plugin.internal;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded executor requests run on: a fixed number of daemon threads and a bounded queue. When
 * the queue is full {@code execute} throws {@link java.util.concurrent.RejectedExecutionException},
 * which the handler answers with 503 instead of letting work pile up.
 */
public final class WorkerPool {
  private WorkerPool() {}

  public static ThreadPoolExecutor create(String name, int threads, int queue) {
    AtomicInteger n = new AtomicInteger();
    ClassLoader loader = WorkerPool.class.getClassLoader();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          t.setContextClassLoader(loader); // the plugin's loader, as during plugin start-up
          return t;
        };
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(queue),
        factory,
        new ThreadPoolExecutor.AbortPolicy());
  }
}

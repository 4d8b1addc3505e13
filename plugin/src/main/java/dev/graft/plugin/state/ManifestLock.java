package dev.graft.plugin.state;

import dev.graft.onnx.GraftException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Mutual exclusion on one model's manifest, between the threads of this process and between
 * processes sharing the model store (replicas): an in-process reentrant lock, plus an operating
 * system lock on the lock file while it is held. The operating system drops the file lock when its
 * process dies, even by {@code kill -9}, so a crashed writer never blocks the others (a lock file
 * whose mere existence meant "locked" would).
 *
 * <p>Network file systems honour such locks when they support POSIX locks (NFSv4 does); see
 * docs/deployment.md for stores that do not. Thread safe; one instance per lock file per process.
 */
final class ManifestLock {
  private static final long RETRY_MILLIS = 20;

  private final Path lockFile;
  private final Duration timeout;
  private final ReentrantLock local = new ReentrantLock();
  private FileChannel channel; // guarded by local
  private FileLock held; // guarded by local

  /** An acquired lock; {@link #close} releases it. */
  interface Hold extends AutoCloseable {
    @Override
    void close();
  }

  ManifestLock(Path lockFile, Duration timeout) {
    this.lockFile = lockFile;
    this.timeout = timeout;
  }

  /**
   * Acquires the lock (reentrant), waiting at most the timeout.
   *
   * @throws GraftException {@code UNAVAILABLE} when another thread or process holds it longer,
   *     {@code INTERNAL} when the lock file cannot be opened
   */
  Hold acquire() {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      if (!local.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw busy();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GraftException(GraftException.Code.UNAVAILABLE, "interrupted waiting for a lock");
    }
    if (local.getHoldCount() > 1) {
      return local::unlock;
    }
    try {
      lockFile(deadline);
    } catch (RuntimeException e) {
      local.unlock();
      throw e;
    }
    return this::release;
  }

  private void lockFile(long deadline) {
    try {
      Files.createDirectories(lockFile.getParent());
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      while (true) {
        held = tryLock(channel);
        if (held != null) {
          return;
        }
        if (System.nanoTime() > deadline) {
          closeChannel();
          throw busy();
        }
        Thread.sleep(RETRY_MILLIS); // another process holds it: no notification exists, poll
      }
    } catch (IOException e) {
      closeChannel();
      throw new GraftException(
          GraftException.Code.INTERNAL, "cannot lock " + lockFile + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      closeChannel();
      Thread.currentThread().interrupt();
      throw new GraftException(GraftException.Code.UNAVAILABLE, "interrupted waiting for a lock");
    }
  }

  /** The lock, or null while another process (or another handler in this JVM) holds it. */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null; // file locks belong to the whole JVM: a second handler here must wait too
    }
  }

  private void release() {
    try {
      closeChannel(); // closing the channel releases the file lock
    } finally {
      local.unlock();
    }
  }

  private void closeChannel() {
    held = null;
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // the lock goes with the channel either way
      }
      channel = null;
    }
  }

  private GraftException busy() {
    return new GraftException(
        GraftException.Code.UNAVAILABLE,
        "another change of this model (here or on another replica) holds "
            + lockFile.getFileName()
            + " for more than "
            + timeout.toMillis()
            + " ms; retry later");
  }
}

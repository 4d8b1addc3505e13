package dev.graft.plugin.state;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Notices manifests changed by other processes: a {@link WatchService} on every watched folder
 * (prompt where the file system reports changes, i.e. local disks) plus a check of every model each
 * poll interval (the only signal on network file systems and synced volumes, whose changes made on
 * other machines raise no events). Either way it calls {@code refresh} with the model's name, on
 * its own daemon thread, one call at a time; {@code refresh} decides whether anything changed.
 *
 * <p>Owns the thread and the watch service; {@link #close} stops both. Thread safe.
 */
final class ManifestWatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ManifestWatcher.class.getName());

  private final Duration poll;
  private final Consumer<String> refresh;
  private final WatchService service;
  private final Thread thread;
  private final Object lock = new Object();
  private final Map<String, Path> folders = new HashMap<>(); // model -> folder; guarded by lock
  private final Map<Path, WatchKey> keys = new HashMap<>(); // guarded by lock
  private volatile boolean closed;

  ManifestWatcher(Duration poll, boolean watch, Consumer<String> refresh) {
    this.poll = poll;
    this.refresh = refresh;
    WatchService ws = null;
    try {
      if (watch) {
        ws = FileSystems.getDefault().newWatchService();
      }
    } catch (IOException | UnsupportedOperationException e) {
      LOG.log(Level.WARNING, "No file watch; manifests are checked every " + poll, e);
    }
    this.service = ws;
    this.thread = new Thread(this::run, "graft-state-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts watching {@code folder} for {@code model}'s manifest. */
  void watch(String model, Path folder) {
    synchronized (lock) {
      folders.put(model, folder);
      if (service != null && !keys.containsKey(folder)) {
        try {
          keys.put(
              folder,
              folder.register(
                  service,
                  StandardWatchEventKinds.ENTRY_CREATE,
                  StandardWatchEventKinds.ENTRY_MODIFY,
                  StandardWatchEventKinds.ENTRY_DELETE));
        } catch (IOException | ClosedWatchServiceException e) {
          LOG.log(Level.FINE, "Cannot watch " + folder + "; polling it", e);
        }
      }
    }
  }

  /** Stops watching {@code model}. */
  void unwatch(String model) {
    synchronized (lock) {
      Path folder = folders.remove(model);
      if (folder != null && !folders.containsValue(folder)) {
        WatchKey key = keys.remove(folder);
        if (key != null) {
          key.cancel();
        }
      }
    }
  }

  private void run() {
    long nextPoll = System.nanoTime() + poll.toNanos();
    while (!closed) {
      try {
        long wait = Math.max(0, nextPoll - System.nanoTime());
        WatchKey key = service == null ? sleep(wait) : service.poll(wait, TimeUnit.NANOSECONDS);
        if (key != null) {
          Set<String> changed = modelsOf(key);
          key.reset();
          changed.forEach(this::refreshQuietly);
        }
        if (System.nanoTime() >= nextPoll) {
          nextPoll = System.nanoTime() + poll.toNanos();
          models().forEach(this::refreshQuietly);
        }
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "Manifest watcher failed; continuing", e);
      }
    }
  }

  private static WatchKey sleep(long nanos) throws InterruptedException {
    TimeUnit.NANOSECONDS.sleep(nanos); // no watch service: the poll period is the only signal
    return null;
  }

  /** The models whose folder an event names a manifest (or its lock) in. */
  private Set<String> modelsOf(WatchKey key) {
    boolean manifest = false;
    for (WatchEvent<?> e : key.pollEvents()) {
      if (e.kind() == StandardWatchEventKinds.OVERFLOW) {
        manifest = true;
      } else if (e.context() instanceof Path p && p.toString().endsWith(StateLocation.MANIFEST)) {
        manifest = true;
      }
    }
    Set<String> models = new LinkedHashSet<>();
    if (manifest) {
      synchronized (lock) {
        folders.forEach(
            (model, folder) -> {
              if (folder.equals(key.watchable())) {
                models.add(model);
              }
            });
      }
    }
    return models;
  }

  private List<String> models() {
    synchronized (lock) {
      return List.copyOf(folders.keySet());
    }
  }

  private void refreshQuietly(String model) {
    try {
      refresh.accept(model);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "Cannot refresh the state of model " + model, e);
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    if (service != null) {
      try {
        service.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

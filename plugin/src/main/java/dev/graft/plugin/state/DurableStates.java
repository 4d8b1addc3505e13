package dev.graft.plugin.state;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.model.ModelRegistry;
import dev.graft.plugin.model.ServedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The durable state of every served model: attaches a {@link ModelState} to each model as it loads
 * (replaying its manifest before the model serves its first request), watches the manifests while
 * the models are registered, and detaches when they leave.
 *
 * <p>Plugged into the {@link ModelRegistry} as its {@link ModelRegistry.Lifecycle}. Other features
 * with durable state add their {@link StateSection} in {@link #loaded}, before the replay: a
 * model's classifier head is journaled by a {@link HeadJournal}. Owns the watcher thread; {@link
 * #close} stops it. Thread safe.
 */
public final class DurableStates implements ModelRegistry.Lifecycle, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DurableStates.class.getName());

  private final ModelStore store;
  private final StateSettings settings;
  private final Clock clock;
  private final Map<String, ModelState> states = new ConcurrentHashMap<>();
  private final Map<Path, ManifestLock> locks = new ConcurrentHashMap<>();
  private final ManifestWatcher watcher;

  public DurableStates(ModelStore store, StateSettings settings) {
    this(store, settings, Clock.systemUTC());
  }

  DurableStates(ModelStore store, StateSettings settings, Clock clock) {
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    this.watcher =
        settings.durable()
            ? new ManifestWatcher(settings.pollInterval(), settings.watch(), this::refresh)
            : null;
    if (settings.durable()) {
      LOG.info(
          "Graft model state: graft.json per model, writer "
              + settings.writer()
              + ", checked every "
              + settings.pollInterval().toMillis()
              + " ms");
    } else {
      LOG.info(
          "Graft model state: in memory only (graft.state=memory); restarts serve base models");
    }
  }

  /** The settings in force. */
  public StateSettings settings() {
    return settings;
  }

  @Override
  public void loaded(ServedModel model) {
    StateLocation location = locate(model);
    ManifestLock lock =
        locks.computeIfAbsent(
            location.lockFile(), f -> new ManifestLock(f, settings.lockTimeout()));
    ModelState state =
        new ModelState(model.name(), location, store, model.adapters(), lock, settings, clock);
    if (settings.durable()) { // sections of other features are added here, before the replay
      model.head().ifPresent(h -> HeadJournal.attach(h, state));
    }
    state.replay();
    states.put(model.name(), state);
    if (watcher != null) {
      watcher.watch(model.name(), location.folder());
    }
  }

  @Override
  public void removed(ServedModel model) {
    if (watcher != null) {
      watcher.unwatch(model.name());
    }
    states.remove(model.name());
  }

  /**
   * The state of a registered model.
   *
   * @throws GraftException {@code NOT_FOUND} for a model that is not registered
   */
  public ModelState of(String model) {
    ModelState s = states.get(model);
    if (s == null) {
      throw GraftException.notFound("model %s not found", model);
    }
    return s;
  }

  /** The problems of a model's state; empty for an unknown model. */
  public List<String> problems(String model) {
    ModelState s = states.get(model);
    return s == null ? List.of() : s.problems();
  }

  private void refresh(String model) {
    ModelState s = states.get(model);
    if (s != null) {
      s.refresh();
    }
  }

  /**
   * The folder holding the model's state: its model folder, or for a bare model file, the file's
   * folder with names derived from the file.
   */
  private StateLocation locate(ServedModel model) {
    Path source = store.resolve(model.url(), "url"); // as when the model was registered
    return Files.isDirectory(source)
        ? StateLocation.forFolder(source)
        : StateLocation.forFile(source);
  }

  /** Stops watching. Idempotent. */
  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
  }
}

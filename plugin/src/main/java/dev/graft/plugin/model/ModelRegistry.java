package dev.graft.plugin.model;

import dev.graft.onnx.GraftException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The models this plugin serves, by name.
 *
 * <p>Registering reserves the name, loads the model without holding the lock (loading takes a while
 * and must not stall lookups), then publishes it; a failed load frees the name. Owns the registered
 * models: unregistering and {@link #close} close them. Thread safe.
 */
public final class ModelRegistry implements AutoCloseable {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  /**
   * Hears of models entering and leaving the registry (the durable state attaches here). Called
   * outside the registry's lock.
   */
  public interface Lifecycle {
    /**
     * A model was loaded and is about to be published: it serves no request yet. Throwing refuses
     * the registration (the model is then closed).
     */
    default void loaded(ServedModel model) {}

    /** A model left the registry and is about to be closed. Must not throw. */
    default void removed(ServedModel model) {}
  }

  private final Lifecycle lifecycle;

  private final Object lock = new Object();
  private final Map<String, ServedModel> models = new TreeMap<>(); // guarded by lock
  private final Set<String> loading = new HashSet<>(); // guarded by lock
  private boolean closed; // guarded by lock

  public ModelRegistry() {
    this(new Lifecycle() {});
  }

  public ModelRegistry(Lifecycle lifecycle) {
    this.lifecycle = lifecycle;
  }

  /**
   * Loads and registers a model under {@code name}.
   *
   * @param load loads the model; called at most once, outside the lock
   * @throws GraftException {@code ALREADY_EXISTS} when the name is taken (or being loaded), {@code
   *     INVALID_ARGUMENT} for a bad name, whatever {@code load} throws
   */
  public ServedModel register(String name, Supplier<ServedModel> load) {
    checkName(name);
    synchronized (lock) {
      if (closed) {
        throw new GraftException(GraftException.Code.UNAVAILABLE, "the plugin is shutting down");
      }
      if (models.containsKey(name) || !loading.add(name)) {
        throw new GraftException(
            GraftException.Code.ALREADY_EXISTS, "model " + name + " is already registered");
      }
    }
    ServedModel model = null;
    boolean announced = false;
    try {
      model = load.get();
      lifecycle.loaded(model);
      announced = true;
      synchronized (lock) {
        if (!closed) {
          models.put(name, model);
          return model;
        }
      }
      throw new GraftException(GraftException.Code.UNAVAILABLE, "the plugin is shutting down");
    } catch (RuntimeException | Error e) {
      if (announced) {
        lifecycle.removed(model);
      }
      if (model != null) {
        model.close();
      }
      throw e;
    } finally {
      synchronized (lock) {
        loading.remove(name);
      }
    }
  }

  /**
   * @throws GraftException {@code NOT_FOUND} for an unknown name
   */
  public ServedModel get(String name) {
    synchronized (lock) {
      ServedModel m = models.get(name);
      if (m == null) {
        throw GraftException.notFound("model %s not found", name);
      }
      return m;
    }
  }

  /** The registered models sorted by name. */
  public List<ServedModel> list() {
    synchronized (lock) {
      return List.copyOf(models.values());
    }
  }

  /**
   * Removes and closes a model. Inferences already running on it finish.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name
   */
  public void unregister(String name) {
    ServedModel m;
    synchronized (lock) {
      m = models.remove(name);
    }
    if (m == null) {
      throw GraftException.notFound("model %s not found", name);
    }
    lifecycle.removed(m);
    m.close();
  }

  /** Closes every model; later registrations are refused. Idempotent. */
  @Override
  public void close() {
    List<ServedModel> all;
    synchronized (lock) {
      closed = true;
      all = new ArrayList<>(models.values());
      models.clear();
    }
    for (ServedModel m : all) {
      lifecycle.removed(m);
      m.close();
    }
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw GraftException.invalid(
          "model name '%s' must be 1-128 letters, digits, '_', '.' or '-'", name);
    }
  }
}

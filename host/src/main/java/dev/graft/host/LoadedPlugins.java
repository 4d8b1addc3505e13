package dev.graft.host;

import ai.djl.serving.plugins.RequestHandler;
import java.io.IOException;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The plugins a {@link PluginLoader} loaded: their definitions, their handler instances in dispatch
 * order, and the class loader that holds their jars.
 *
 * <p>Owns the handler instances and the class loader: {@link #close()} closes every handler that
 * implements {@link AutoCloseable} (in reverse load order) and then the class loader. Safe to share
 * between threads; {@code close()} is idempotent.
 */
public final class LoadedPlugins implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(LoadedPlugins.class.getName());

  private final List<PluginDefinition> definitions;
  private final List<RequestHandler<?>> handlers;
  private final URLClassLoader classLoader; // null when there were no jars
  private boolean handlersClosed; // guarded by this
  private boolean closed; // guarded by this

  LoadedPlugins(
      List<PluginDefinition> definitions,
      List<RequestHandler<?>> handlers,
      URLClassLoader classLoader) {
    this.definitions = List.copyOf(definitions);
    this.handlers = Collections.unmodifiableList(new ArrayList<>(handlers));
    this.classLoader = classLoader;
  }

  /** No plugins at all. */
  public static LoadedPlugins none() {
    return new LoadedPlugins(List.of(), List.of(), null);
  }

  /** The definitions that were read, in load order. */
  public List<PluginDefinition> definitions() {
    return definitions;
  }

  /** The handler instances in the order the host consults them. */
  public List<RequestHandler<?>> handlers() {
    return handlers;
  }

  /**
   * Closes every handler instance that is {@link AutoCloseable}, last loaded first; failures are
   * logged and do not stop the others. The class loader stays open so in-flight work can still load
   * classes. Idempotent.
   */
  public synchronized void closeHandlers() {
    if (handlersClosed) {
      return;
    }
    handlersClosed = true;
    for (int i = handlers.size() - 1; i >= 0; i--) {
      if (handlers.get(i) instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception | LinkageError e) {
          LOG.log(Level.WARNING, "Closing plugin handler " + closeable.getClass().getName(), e);
        }
      }
    }
  }

  /** Closes the handlers (if not done yet) and then the plugin class loader. Idempotent. */
  @Override
  public synchronized void close() {
    closeHandlers();
    if (closed) {
      return;
    }
    closed = true;
    if (classLoader != null) {
      try {
        classLoader.close();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "Closing the plugin class loader", e);
      }
    }
  }
}

package dev.graft.host;

import java.io.IOException;
import java.io.PrintStream;

/**
 * A running host: plugins loaded by a {@link PluginLoader} behind an {@link HttpServer}.
 *
 * <p>Owns both. {@link #close()} stops accepting connections, closes the plugin handlers, shuts
 * Netty down gracefully and finally closes the plugin class loader; it is idempotent and
 * thread-safe (a shutdown hook may call it while another thread waits in {@link
 * #awaitTermination()}).
 */
public final class GraftHost implements AutoCloseable {

  private final HttpServer server;
  private final LoadedPlugins plugins;
  private boolean closed; // guarded by this

  private GraftHost(HttpServer server, LoadedPlugins plugins) {
    this.server = server;
    this.plugins = plugins;
  }

  /**
   * Loads the plugins, binds the connectors and prints to {@code out}, flushing it:
   *
   * <pre>
   * Inference API bind to: http://HOST:PORT
   * Management API bind to: http://HOST:PORT
   * Graft host started.
   * </pre>
   *
   * The two URLs are the same when the connector is shared; PORT is the bound port (never 0).
   *
   * @throws PluginLoadException when a plugin cannot be loaded
   * @throws IOException when an address cannot be bound
   */
  public static GraftHost start(HostConfig config, PluginLoader loader, PrintStream out)
      throws PluginLoadException, IOException {
    LoadedPlugins plugins = loader.load(config);
    HttpServer server;
    try {
      server = HttpServer.start(config, plugins.handlers());
    } catch (IOException | RuntimeException e) {
      plugins.close();
      throw e;
    }
    out.println("Inference API bind to: " + server.inferenceAddress().url());
    out.println("Management API bind to: " + server.managementAddress().url());
    out.println("Graft host started.");
    out.flush();
    return new GraftHost(server, plugins);
  }

  public BindAddress inferenceAddress() {
    return server.inferenceAddress();
  }

  public BindAddress managementAddress() {
    return server.managementAddress();
  }

  public LoadedPlugins plugins() {
    return plugins;
  }

  /** Blocks until the host has been closed and its event loops have terminated. */
  public void awaitTermination() {
    server.awaitTermination();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stopAccepting();
    plugins.closeHandlers();
    server.close();
    plugins.close();
  }
}
